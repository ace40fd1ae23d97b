build-dev/obj/src/directory/dir_reader.o: src/directory/dir_reader.c \
 src/directory/dir_reader.h src/directory/dir_build.h \
 src/directory/directory.h src/core/config.h src/core/worker.h
src/directory/dir_reader.h:
src/directory/dir_build.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
