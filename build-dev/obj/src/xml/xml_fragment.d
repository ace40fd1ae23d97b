build-dev/obj/src/xml/xml_fragment.o: src/xml/xml_fragment.c \
 src/xml/xml_fragment.h src/xml/xml.h src/core/buf.h
src/xml/xml_fragment.h:
src/xml/xml.h:
src/core/buf.h:
