build-dev/obj/src/directory/dir_escape.o: src/directory/dir_escape.c \
 src/directory/directory.h src/core/config.h src/core/worker.h
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
