build-dev/obj/src/modules/mod_disco.o: src/modules/mod_disco.c \
 src/modules/caps.h src/xml/xml.h src/core/buf.h src/modules/disco.h \
 src/modules/module.h src/router/events.h src/router/session.h \
 src/core/worker.h src/xmpp/jid.h src/xmpp/stanza.h
src/modules/caps.h:
src/xml/xml.h:
src/core/buf.h:
src/modules/disco.h:
src/modules/module.h:
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xmpp/jid.h:
src/xmpp/stanza.h:
