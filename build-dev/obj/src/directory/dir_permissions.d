build-dev/obj/src/directory/dir_permissions.o: \
 src/directory/dir_permissions.c src/directory/dir_build.h \
 src/directory/directory.h src/core/config.h src/core/worker.h
src/directory/dir_build.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
