build-dev/obj/src/modules/mod_caps.o: src/modules/mod_caps.c \
 src/core/buf.h src/modules/caps.h src/xml/xml.h src/modules/disco.h \
 src/modules/module.h src/router/events.h src/router/session.h \
 src/core/worker.h src/xmpp/jid.h
src/core/buf.h:
src/modules/caps.h:
src/xml/xml.h:
src/modules/disco.h:
src/modules/module.h:
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xmpp/jid.h:
