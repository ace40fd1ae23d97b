build-dev/obj/src/cli/plucs.o: src/cli/plucs.c src/cli/cli_apache.h \
 src/core/config.h src/cli/cli.h src/directory/directory.h \
 src/core/worker.h
src/cli/cli_apache.h:
src/core/config.h:
src/cli/cli.h:
src/directory/directory.h:
src/core/worker.h:
