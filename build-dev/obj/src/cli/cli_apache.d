build-dev/obj/src/cli/cli_apache.o: src/cli/cli_apache.c \
 src/cli/cli_apache.h src/core/config.h src/cli/cli.h \
 src/directory/directory.h src/core/worker.h src/core/buf.h \
 src/core/registry.h
src/cli/cli_apache.h:
src/core/config.h:
src/cli/cli.h:
src/directory/directory.h:
src/core/worker.h:
src/core/buf.h:
src/core/registry.h:
