build-dev/obj/src/transport/c2s.o: src/transport/c2s.c \
 src/transport/c2s.h src/core/worker.h src/core/config.h src/core/i18n.h \
 src/core/log.h src/transport/tls.h src/transport/transport.h \
 src/transport/xmpp_stream.h src/router/session.h src/xml/xml.h \
 src/core/buf.h src/xmpp/jid.h
src/transport/c2s.h:
src/core/worker.h:
src/core/config.h:
src/core/i18n.h:
src/core/log.h:
src/transport/tls.h:
src/transport/transport.h:
src/transport/xmpp_stream.h:
src/router/session.h:
src/xml/xml.h:
src/core/buf.h:
src/xmpp/jid.h:
