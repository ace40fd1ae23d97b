build-dev/obj/src/directory/dir_build.o: src/directory/dir_build.c \
 src/directory/dir_build.h src/directory/directory.h src/core/config.h \
 src/core/worker.h src/directory/dir_internal.h src/xmpp/jid.h
src/directory/dir_build.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/directory/dir_internal.h:
src/xmpp/jid.h:
