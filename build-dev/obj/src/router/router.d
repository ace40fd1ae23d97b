build-dev/obj/src/router/router.o: src/router/router.c \
 src/router/router.h src/directory/directory.h src/core/config.h \
 src/core/worker.h src/router/locator.h src/router/routes.h src/xml/xml.h \
 src/core/buf.h src/router/session.h src/xmpp/jid.h src/core/i18n.h \
 src/core/log.h src/router/events.h src/router/policy.h src/xmpp/stanza.h
src/router/router.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/router/locator.h:
src/router/routes.h:
src/xml/xml.h:
src/core/buf.h:
src/router/session.h:
src/xmpp/jid.h:
src/core/i18n.h:
src/core/log.h:
src/router/events.h:
src/router/policy.h:
src/xmpp/stanza.h:
