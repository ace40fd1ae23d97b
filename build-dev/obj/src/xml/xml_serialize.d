build-dev/obj/src/xml/xml_serialize.o: src/xml/xml_serialize.c \
 src/xml/xml.h src/core/buf.h
src/xml/xml.h:
src/core/buf.h:
