build-dev/obj/src/modules/mod_vcard.o: src/modules/mod_vcard.c \
 src/modules/module.h src/core/buf.h src/router/events.h \
 src/router/session.h src/core/worker.h src/xml/xml.h src/xmpp/jid.h \
 src/core/i18n.h src/core/log.h src/directory/dir_query.h \
 src/modules/vcard_build.h src/router/router.h src/directory/directory.h \
 src/core/config.h src/router/locator.h src/router/routes.h \
 src/xmpp/stanza.h
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
src/router/router.h:
src/directory/directory.h:
src/core/config.h:
src/router/locator.h:
src/router/routes.h:
src/xmpp/stanza.h:
