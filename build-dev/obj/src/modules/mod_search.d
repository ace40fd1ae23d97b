build-dev/obj/src/modules/mod_search.o: src/modules/mod_search.c \
 src/modules/module.h src/core/buf.h src/router/events.h \
 src/router/session.h src/core/worker.h src/xml/xml.h src/xmpp/jid.h \
 src/core/i18n.h src/core/log.h src/directory/dir_query.h \
 src/modules/vcard_build.h src/xmpp/stanza.h
src/modules/module.h:
src/core/buf.h:
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/xmpp/jid.h:
src/core/i18n.h:
src/core/log.h:
src/directory/dir_query.h:
src/modules/vcard_build.h:
src/xmpp/stanza.h:
