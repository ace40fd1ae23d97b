build-dev/obj/src/cli/cli_offline.o: src/cli/cli_offline.c src/cli/cli.h \
 src/core/config.h src/directory/directory.h src/core/worker.h \
 src/directory/dir_build.h src/directory/dir_reader.h src/core/secret.h
src/cli/cli.h:
src/core/config.h:
src/directory/directory.h:
src/core/worker.h:
src/directory/dir_build.h:
src/directory/dir_reader.h:
src/core/secret.h:
