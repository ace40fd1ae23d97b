build-dev/obj/src/transport/xmpp_stream.o: src/transport/xmpp_stream.c \
 src/transport/xmpp_stream.h src/core/worker.h src/router/session.h \
 src/xml/xml.h src/core/buf.h src/xmpp/jid.h src/core/config.h \
 src/core/i18n.h src/core/log.h src/directory/directory.h \
 src/router/router.h src/router/locator.h src/router/routes.h \
 src/metrics/metrics.h src/transport/tls.h src/xmpp/sasl.h \
 src/xmpp/stanza.h
src/transport/xmpp_stream.h:
src/core/worker.h:
src/router/session.h:
src/xml/xml.h:
src/core/buf.h:
src/xmpp/jid.h:
src/core/config.h:
src/core/i18n.h:
src/core/log.h:
src/directory/directory.h:
src/router/router.h:
src/router/locator.h:
src/router/routes.h:
src/metrics/metrics.h:
src/transport/tls.h:
src/xmpp/sasl.h:
src/xmpp/stanza.h:
