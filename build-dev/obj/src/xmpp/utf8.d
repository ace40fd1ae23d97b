build-dev/obj/src/xmpp/utf8.o: src/xmpp/utf8.c src/xmpp/utf8.h
src/xmpp/utf8.h:
