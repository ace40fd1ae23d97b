build-dev/obj/src/store/store_roster.o: src/store/store_roster.c \
 src/store/store_internal.h src/store/store.h src/core/worker.h \
 src/core/buf.h src/core/log.h
src/store/store_internal.h:
src/store/store.h:
src/core/worker.h:
src/core/buf.h:
src/core/log.h:
