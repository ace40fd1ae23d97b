build-dev/obj/src/control/control_explain.o: \
 src/control/control_explain.c src/control/control.h src/core/buf.h \
 src/directory/directory.h src/core/config.h src/core/worker.h \
 src/xmpp/jid.h
src/control/control.h:
src/core/buf.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/xmpp/jid.h:
