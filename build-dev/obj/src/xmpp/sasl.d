build-dev/obj/src/xmpp/sasl.o: src/xmpp/sasl.c src/xmpp/sasl.h \
 src/xmpp/utf8.h
src/xmpp/sasl.h:
src/xmpp/utf8.h:
