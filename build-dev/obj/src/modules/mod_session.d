build-dev/obj/src/modules/mod_session.o: src/modules/mod_session.c \
 src/modules/module.h src/core/buf.h src/router/events.h \
 src/router/session.h src/core/worker.h src/xml/xml.h src/xmpp/jid.h \
 src/xmpp/stanza.h
src/modules/module.h:
src/core/buf.h:
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/xmpp/jid.h:
src/xmpp/stanza.h:
