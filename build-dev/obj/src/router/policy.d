build-dev/obj/src/router/policy.o: src/router/policy.c \
 src/router/policy.h src/directory/directory.h src/core/config.h \
 src/core/worker.h src/router/session.h src/xml/xml.h src/core/buf.h \
 src/xmpp/jid.h src/xmpp/stanza.h src/core/log.h src/metrics/metrics.h
src/router/policy.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/router/session.h:
src/xml/xml.h:
src/core/buf.h:
src/xmpp/jid.h:
src/xmpp/stanza.h:
src/core/log.h:
src/metrics/metrics.h:
