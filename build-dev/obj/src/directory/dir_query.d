build-dev/obj/src/directory/dir_query.o: src/directory/dir_query.c \
 src/directory/dir_query.h src/core/worker.h src/directory/dir_internal.h \
 src/directory/directory.h src/core/config.h src/directory/dir_build.h \
 src/core/log.h
src/directory/dir_query.h:
src/core/worker.h:
src/directory/dir_internal.h:
src/directory/directory.h:
src/core/config.h:
src/directory/dir_build.h:
src/core/log.h:
