build-dev/obj/src/modules/builtin.o: src/modules/builtin.c \
 src/modules/module.h src/core/buf.h src/router/events.h \
 src/router/session.h src/core/worker.h src/xml/xml.h src/xmpp/jid.h
src/modules/module.h:
src/core/buf.h:
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/xmpp/jid.h:
