build-dev/obj/src/modules/mod_roster.o: src/modules/mod_roster.c \
 src/modules/roster.h src/router/session.h src/core/worker.h \
 src/xml/xml.h src/core/buf.h src/xmpp/jid.h src/store/store.h \
 src/core/config.h src/core/i18n.h src/core/log.h src/modules/module.h \
 src/router/events.h src/modules/shared_roster.h \
 src/directory/directory.h src/router/router.h src/router/locator.h \
 src/router/routes.h src/xmpp/stanza.h
src/modules/roster.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/core/buf.h:
src/xmpp/jid.h:
src/store/store.h:
src/core/config.h:
src/core/i18n.h:
src/core/log.h:
src/modules/module.h:
src/router/events.h:
src/modules/shared_roster.h:
src/directory/directory.h:
src/router/router.h:
src/router/locator.h:
src/router/routes.h:
src/xmpp/stanza.h:
