build-dev/obj/src/store/store_ctx.o: src/store/store_ctx.c \
 src/store/store_ctx.h src/store/store_extra.h src/store/store.h \
 src/core/worker.h src/store/store_internal.h src/core/log.h
src/store/store_ctx.h:
src/store/store_extra.h:
src/store/store.h:
src/core/worker.h:
src/store/store_internal.h:
src/core/log.h:
