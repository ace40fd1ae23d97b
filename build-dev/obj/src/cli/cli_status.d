build-dev/obj/src/cli/cli_status.o: src/cli/cli_status.c src/cli/cli.h \
 src/core/config.h src/directory/directory.h src/core/worker.h \
 src/control/control.h src/core/buf.h src/core/registry.h
src/cli/cli.h:
src/core/config.h:
src/directory/directory.h:
src/core/worker.h:
src/control/control.h:
src/core/buf.h:
src/core/registry.h:
