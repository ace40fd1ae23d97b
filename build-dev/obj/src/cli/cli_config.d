build-dev/obj/src/cli/cli_config.o: src/cli/cli_config.c src/cli/cli.h \
 src/core/config.h src/directory/directory.h src/core/worker.h \
 src/cli/cli_apache.h src/core/registry.h
src/cli/cli.h:
src/core/config.h:
src/directory/directory.h:
src/core/worker.h:
src/cli/cli_apache.h:
src/core/registry.h:
