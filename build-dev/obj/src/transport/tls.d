build-dev/obj/src/transport/tls.o: src/transport/tls.c \
 src/transport/tls.h src/core/log.h
src/transport/tls.h:
src/core/log.h:
