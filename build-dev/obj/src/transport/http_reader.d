build-dev/obj/src/transport/http_reader.o: src/transport/http_reader.c \
 src/transport/http_reader.h src/core/buf.h
src/transport/http_reader.h:
src/core/buf.h:
