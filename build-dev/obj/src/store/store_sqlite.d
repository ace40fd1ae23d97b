build-dev/obj/src/store/store_sqlite.o: src/store/store_sqlite.c \
 src/store/store_internal.h src/store/store.h src/core/worker.h \
 src/core/log.h
src/store/store_internal.h:
src/store/store.h:
src/core/worker.h:
src/core/log.h:
