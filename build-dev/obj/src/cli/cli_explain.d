build-dev/obj/src/cli/cli_explain.o: src/cli/cli_explain.c src/cli/cli.h \
 src/core/config.h src/directory/directory.h src/core/worker.h \
 src/control/control.h src/core/buf.h src/core/registry.h
src/cli/cli.h:
src/core/config.h:
src/directory/directory.h:
src/core/worker.h:
src/control/control.h:
src/core/buf.h:
src/core/registry.h:
