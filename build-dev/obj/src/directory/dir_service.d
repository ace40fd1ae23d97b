build-dev/obj/src/directory/dir_service.o: src/directory/dir_service.c \
 src/directory/dir_internal.h src/directory/directory.h src/core/config.h \
 src/core/worker.h src/directory/dir_build.h src/directory/dir_query.h \
 src/core/log.h src/core/secret.h
src/directory/dir_internal.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/directory/dir_build.h:
src/directory/dir_query.h:
src/core/log.h:
src/core/secret.h:
