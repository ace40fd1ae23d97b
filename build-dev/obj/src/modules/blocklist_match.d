build-dev/obj/src/modules/blocklist_match.o: \
 src/modules/blocklist_match.c src/modules/blocklist.h src/xmpp/jid.h
src/modules/blocklist.h:
src/xmpp/jid.h:
