build-dev/obj/src/router/session.o: src/router/session.c \
 src/router/session.h src/core/worker.h src/xml/xml.h src/core/buf.h \
 src/xmpp/jid.h src/core/i18n.h src/core/idmap.h src/core/log.h \
 src/router/events.h src/router/routes.h
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/core/buf.h:
src/xmpp/jid.h:
src/core/i18n.h:
src/core/idmap.h:
src/core/log.h:
src/router/events.h:
src/router/routes.h:
