build-dev/obj/src/transport/bosh_body.o: src/transport/bosh_body.c \
 src/transport/bosh_body.h src/xml/xml.h src/core/buf.h \
 src/transport/framing.h
src/transport/bosh_body.h:
src/xml/xml.h:
src/core/buf.h:
src/transport/framing.h:
