build-dev/obj/src/directory/dir_query_filter.o: \
 src/directory/dir_query_filter.c src/directory/dir_query.h \
 src/core/worker.h src/directory/directory.h src/core/config.h \
 src/core/buf.h
src/directory/dir_query.h:
src/core/worker.h:
src/directory/directory.h:
src/core/config.h:
src/core/buf.h:
