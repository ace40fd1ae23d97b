build-dev/obj/src/transport/transport.o: src/transport/transport.c \
 src/transport/transport.h src/core/i18n.h src/core/worker.h \
 src/router/session.h src/xml/xml.h src/core/buf.h src/xmpp/jid.h \
 src/transport/bosh.h src/transport/http.h src/transport/poll.h \
 src/transport/xmpp_stream.h
src/transport/transport.h:
src/core/i18n.h:
src/core/worker.h:
src/router/session.h:
src/xml/xml.h:
src/core/buf.h:
src/xmpp/jid.h:
src/transport/bosh.h:
src/transport/http.h:
src/transport/poll.h:
src/transport/xmpp_stream.h:
