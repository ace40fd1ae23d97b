build-dev/obj/src/control/control.o: src/control/control.c \
 src/control/control.h src/core/buf.h src/directory/directory.h \
 src/core/config.h src/core/worker.h src/core/log.h
src/control/control.h:
src/core/buf.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
src/core/log.h:
