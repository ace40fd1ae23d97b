build-dev/obj/src/modules/mod_blocking.o: src/modules/mod_blocking.c \
 src/core/i18n.h src/core/log.h src/modules/blocklist.h src/xmpp/jid.h \
 src/modules/module.h src/core/buf.h src/router/events.h \
 src/router/session.h src/core/worker.h src/xml/xml.h \
 src/modules/roster.h src/store/store.h src/router/router.h \
 src/directory/directory.h src/core/config.h src/router/locator.h \
 src/router/routes.h src/store/store_extra.h src/xmpp/stanza.h
src/core/i18n.h:
src/core/log.h:
src/modules/blocklist.h:
src/xmpp/jid.h:
src/modules/module.h:
src/core/buf.h:
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/modules/roster.h:
src/store/store.h:
src/router/router.h:
src/directory/directory.h:
src/core/config.h:
src/router/locator.h:
src/router/routes.h:
src/store/store_extra.h:
src/xmpp/stanza.h:
