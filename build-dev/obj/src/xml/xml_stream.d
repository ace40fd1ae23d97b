build-dev/obj/src/xml/xml_stream.o: src/xml/xml_stream.c src/xml/xml.h \
 src/core/buf.h
src/xml/xml.h:
src/core/buf.h:
