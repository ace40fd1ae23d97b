build-dev/obj/src/modules/block_cache.o: src/modules/block_cache.c \
 src/modules/blocklist.h src/xmpp/jid.h
src/modules/blocklist.h:
src/xmpp/jid.h:
