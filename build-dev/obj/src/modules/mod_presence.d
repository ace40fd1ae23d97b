build-dev/obj/src/modules/mod_presence.o: src/modules/mod_presence.c \
 src/core/config.h src/core/log.h src/modules/module.h src/core/buf.h \
 src/router/events.h src/router/session.h src/core/worker.h src/xml/xml.h \
 src/xmpp/jid.h src/modules/roster.h src/store/store.h \
 src/modules/shared_roster.h src/directory/directory.h \
 src/router/policy.h src/xmpp/stanza.h src/router/router.h \
 src/router/locator.h src/router/routes.h src/xml/xml_fragment.h
src/core/config.h:
src/core/log.h:
src/modules/module.h:
src/core/buf.h:
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/xmpp/jid.h:
src/modules/roster.h:
src/store/store.h:
src/modules/shared_roster.h:
src/directory/directory.h:
src/router/policy.h:
src/xmpp/stanza.h:
src/router/router.h:
src/router/locator.h:
src/router/routes.h:
src/xml/xml_fragment.h:
