build-dev/obj/src/control/control_status.o: src/control/control_status.c \
 src/control/control.h src/core/buf.h src/directory/directory.h \
 src/core/config.h src/core/worker.h src/router/session.h src/xml/xml.h \
 src/xmpp/jid.h src/core/version.h
src/control/control.h:
src/core/buf.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/router/session.h:
src/xml/xml.h:
src/xmpp/jid.h:
src/core/version.h:
