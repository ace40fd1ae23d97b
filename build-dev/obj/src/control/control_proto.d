build-dev/obj/src/control/control_proto.o: src/control/control_proto.c \
 src/control/control.h src/core/buf.h src/directory/directory.h \
 src/core/config.h src/core/worker.h
src/control/control.h:
src/core/buf.h:
src/directory/directory.h:
src/core/config.h:
src/core/worker.h:
