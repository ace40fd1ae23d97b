build-dev/obj/src/core/worker.o: src/core/worker.c src/core/worker.h \
 src/core/log.h
src/core/worker.h:
src/core/log.h:
