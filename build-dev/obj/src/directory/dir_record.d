build-dev/obj/src/directory/dir_record.o: src/directory/dir_record.c \
 src/directory/dir_query.h src/core/worker.h
src/directory/dir_query.h:
src/core/worker.h:
