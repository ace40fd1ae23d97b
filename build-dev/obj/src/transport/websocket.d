build-dev/obj/src/transport/websocket.o: src/transport/websocket.c \
 src/transport/websocket.h src/core/worker.h src/core/config.h \
 src/core/i18n.h src/core/log.h src/transport/framing.h src/core/buf.h \
 src/transport/transport.h src/transport/xmpp_stream.h \
 src/router/session.h src/xml/xml.h src/xmpp/jid.h
src/transport/websocket.h:
src/core/worker.h:
src/core/config.h:
src/core/i18n.h:
src/core/log.h:
src/transport/framing.h:
src/core/buf.h:
src/transport/transport.h:
src/transport/xmpp_stream.h:
src/router/session.h:
src/xml/xml.h:
src/xmpp/jid.h:
