build-dev/obj/src/transport/framing.o: src/transport/framing.c \
 src/transport/framing.h src/core/buf.h src/xml/xml.h
src/transport/framing.h:
src/core/buf.h:
src/xml/xml.h:
