build-dev/obj/src/modules/vcard_build.o: src/modules/vcard_build.c \
 src/modules/vcard_build.h src/directory/dir_query.h src/core/worker.h \
 src/xml/xml.h src/core/buf.h src/xmpp/sasl.h src/xmpp/utf8.h
src/modules/vcard_build.h:
src/directory/dir_query.h:
src/core/worker.h:
src/xml/xml.h:
src/core/buf.h:
src/xmpp/sasl.h:
src/xmpp/utf8.h:
