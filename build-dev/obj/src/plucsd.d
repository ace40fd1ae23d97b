build-dev/obj/src/plucsd.o: src/plucsd.c src/core/config.h \
 src/control/control.h src/core/buf.h src/directory/directory.h \
 src/core/config.h src/core/worker.h src/core/log.h src/core/registry.h \
 src/core/worker.h src/directory/directory.h src/modules/module.h \
 src/router/events.h src/router/session.h src/xml/xml.h src/xmpp/jid.h \
 src/router/router.h src/router/locator.h src/router/routes.h \
 src/router/session.h src/store/store.h src/transport/c2s.h \
 src/transport/listener.h src/transport/tls.h src/transport/xmpp_stream.h
src/core/config.h:
src/control/control.h:
src/core/buf.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/core/log.h:
src/core/registry.h:
src/core/worker.h:
src/directory/directory.h:
src/modules/module.h:
src/router/events.h:
src/router/session.h:
src/xml/xml.h:
src/xmpp/jid.h:
src/router/router.h:
src/router/locator.h:
src/router/routes.h:
src/router/session.h:
src/store/store.h:
src/transport/c2s.h:
src/transport/listener.h:
src/transport/tls.h:
src/transport/xmpp_stream.h:
