build-dev/obj/src/xmpp/stanza.o: src/xmpp/stanza.c src/xmpp/stanza.h \
 src/xml/xml.h src/core/buf.h
src/xmpp/stanza.h:
src/xml/xml.h:
src/core/buf.h:
