build-dev/obj/src/router/locator_local.o: src/router/locator_local.c \
 src/router/locator.h src/router/routes.h src/xml/xml.h src/core/buf.h \
 src/core/worker.h src/router/router.h src/directory/directory.h \
 src/core/config.h src/router/session.h src/xmpp/jid.h
src/router/locator.h:
src/router/routes.h:
src/xml/xml.h:
src/core/buf.h:
src/core/worker.h:
src/router/router.h:
src/directory/directory.h:
src/core/config.h:
src/router/session.h:
src/xmpp/jid.h:
