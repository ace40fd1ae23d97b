build-dev/obj/src/modules/mod_version.o: src/modules/mod_version.c \
 src/core/version.h src/modules/module.h src/core/buf.h \
 src/router/events.h src/router/session.h src/core/worker.h src/xml/xml.h \
 src/xmpp/jid.h src/xmpp/stanza.h
src/core/version.h:
src/modules/module.h:
src/core/buf.h:
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/xmpp/jid.h:
src/xmpp/stanza.h:
