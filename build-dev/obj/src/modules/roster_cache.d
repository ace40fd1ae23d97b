build-dev/obj/src/modules/roster_cache.o: src/modules/roster_cache.c \
 src/modules/roster.h src/router/session.h src/core/worker.h \
 src/xml/xml.h src/core/buf.h src/xmpp/jid.h src/store/store.h
src/modules/roster.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/core/buf.h:
src/xmpp/jid.h:
src/store/store.h:
