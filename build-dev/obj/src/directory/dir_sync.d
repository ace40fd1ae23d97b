build-dev/obj/src/directory/dir_sync.o: src/directory/dir_sync.c \
 src/directory/dir_internal.h src/directory/directory.h src/core/config.h \
 src/core/worker.h src/directory/dir_build.h src/core/log.h
src/directory/dir_internal.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/directory/dir_build.h:
src/core/log.h:
