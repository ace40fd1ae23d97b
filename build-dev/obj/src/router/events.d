build-dev/obj/src/router/events.o: src/router/events.c \
 src/router/events.h src/router/session.h src/core/worker.h src/xml/xml.h \
 src/core/buf.h src/xmpp/jid.h
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/core/buf.h:
src/xmpp/jid.h:
