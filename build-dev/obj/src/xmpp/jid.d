build-dev/obj/src/xmpp/jid.o: src/xmpp/jid.c src/xmpp/jid.h \
 src/xmpp/utf8.h
src/xmpp/jid.h:
src/xmpp/utf8.h:
