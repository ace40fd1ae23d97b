build-dev/obj/src/directory/dir_auth.o: src/directory/dir_auth.c \
 src/directory/dir_internal.h src/directory/directory.h src/core/config.h \
 src/core/worker.h src/directory/dir_build.h src/core/log.h
src/directory/dir_internal.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/directory/dir_build.h:
src/core/log.h:
