build-dev/obj/src/modules/mod_offline.o: src/modules/mod_offline.c \
 src/core/config.h src/core/i18n.h src/core/log.h src/modules/module.h \
 src/core/buf.h src/router/events.h src/router/session.h \
 src/core/worker.h src/xml/xml.h src/xmpp/jid.h src/modules/async_job.h \
 src/router/router.h src/directory/directory.h src/router/locator.h \
 src/router/routes.h src/store/store.h src/xml/xml_fragment.h \
 src/xmpp/stanza.h
src/core/config.h:
src/core/i18n.h:
src/core/log.h:
src/modules/module.h:
src/core/buf.h:
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/xmpp/jid.h:
src/modules/async_job.h:
src/router/router.h:
src/directory/directory.h:
src/router/locator.h:
src/router/routes.h:
src/store/store.h:
src/xml/xml_fragment.h:
src/xmpp/stanza.h:
