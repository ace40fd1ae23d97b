build-dev/obj/src/transport/bosh.o: src/transport/bosh.c \
 src/transport/bosh.h src/transport/http.h src/core/worker.h \
 src/core/buf.h src/core/config.h src/core/i18n.h src/core/idmap.h \
 src/core/log.h src/transport/bosh_body.h src/xml/xml.h \
 src/transport/framing.h src/metrics/metrics.h src/transport/transport.h \
 src/transport/xmpp_stream.h src/router/session.h src/xmpp/jid.h
src/transport/bosh.h:
src/transport/http.h:
src/core/worker.h:
src/core/buf.h:
src/core/config.h:
src/core/i18n.h:
src/core/idmap.h:
src/core/log.h:
src/transport/bosh_body.h:
src/xml/xml.h:
src/transport/framing.h:
src/metrics/metrics.h:
src/transport/transport.h:
src/transport/xmpp_stream.h:
src/router/session.h:
src/xmpp/jid.h:
