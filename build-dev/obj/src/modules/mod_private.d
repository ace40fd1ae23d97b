build-dev/obj/src/modules/mod_private.o: src/modules/mod_private.c \
 src/core/log.h src/modules/module.h src/core/buf.h src/router/events.h \
 src/router/session.h src/core/worker.h src/xml/xml.h src/xmpp/jid.h \
 src/store/store_extra.h src/store/store.h src/xml/xml_fragment.h \
 src/xmpp/stanza.h
src/core/log.h:
src/modules/module.h:
src/core/buf.h:
src/router/events.h:
src/router/session.h:
src/core/worker.h:
src/xml/xml.h:
src/xmpp/jid.h:
src/store/store_extra.h:
src/store/store.h:
src/xml/xml_fragment.h:
src/xmpp/stanza.h:
