build-dev/obj/src/directory/directory.o: src/directory/directory.c \
 src/directory/dir_internal.h src/directory/directory.h src/core/config.h \
 src/core/worker.h src/directory/dir_build.h src/core/buf.h \
 src/directory/dir_query.h src/core/log.h
src/directory/dir_internal.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/directory/dir_build.h:
src/core/buf.h:
src/directory/dir_query.h:
src/core/log.h:
