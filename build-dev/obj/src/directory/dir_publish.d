build-dev/obj/src/directory/dir_publish.o: src/directory/dir_publish.c \
 src/directory/dir_internal.h src/directory/directory.h src/core/config.h \
 src/core/worker.h src/directory/dir_build.h src/metrics/metrics.h \
 src/core/buf.h src/core/log.h
src/directory/dir_internal.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/directory/dir_build.h:
src/metrics/metrics.h:
src/core/buf.h:
src/core/log.h:
