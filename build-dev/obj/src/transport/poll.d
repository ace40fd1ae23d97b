build-dev/obj/src/transport/poll.o: src/transport/poll.c \
 src/transport/poll.h src/transport/http.h src/core/worker.h \
 src/core/buf.h src/core/config.h src/core/i18n.h src/core/idmap.h \
 src/core/log.h src/transport/framing.h src/transport/transport.h \
 src/transport/xmpp_stream.h src/router/session.h src/xml/xml.h \
 src/xmpp/jid.h
src/transport/poll.h:
src/transport/http.h:
src/core/worker.h:
src/core/buf.h:
src/core/config.h:
src/core/i18n.h:
src/core/idmap.h:
src/core/log.h:
src/transport/framing.h:
src/transport/transport.h:
src/transport/xmpp_stream.h:
src/router/session.h:
src/xml/xml.h:
src/xmpp/jid.h:
