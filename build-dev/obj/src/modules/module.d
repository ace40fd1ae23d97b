build-dev/obj/src/modules/module.o: src/modules/module.c \
 src/modules/module.h src/core/buf.h src/router/events.h \
 src/router/session.h src/core/worker.h src/xml/xml.h src/xmpp/jid.h \
 src/modules/async_job.h
src/modules/module.h:
src/core/buf.h:
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/xmpp/jid.h:
src/modules/async_job.h:
