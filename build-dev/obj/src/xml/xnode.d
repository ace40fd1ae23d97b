build-dev/obj/src/xml/xnode.o: src/xml/xnode.c src/xml/xml.h \
 src/core/buf.h
src/xml/xml.h:
src/core/buf.h:
