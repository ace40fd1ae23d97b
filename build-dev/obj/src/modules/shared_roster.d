build-dev/obj/src/modules/shared_roster.o: src/modules/shared_roster.c \
 src/modules/shared_roster.h src/core/config.h src/directory/directory.h \
 src/core/worker.h src/xml/xml.h src/core/buf.h src/modules/roster.h \
 src/router/session.h src/xmpp/jid.h src/store/store.h
src/modules/shared_roster.h:
src/core/config.h:
src/directory/directory.h:
src/core/worker.h:
src/xml/xml.h:
src/core/buf.h:
src/modules/roster.h:
src/router/session.h:
src/xmpp/jid.h:
src/store/store.h:
