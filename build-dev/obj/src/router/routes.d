build-dev/obj/src/router/routes.o: src/router/routes.c \
 src/router/routes.h src/xml/xml.h src/core/buf.h
src/router/routes.h:
src/xml/xml.h:
src/core/buf.h:
