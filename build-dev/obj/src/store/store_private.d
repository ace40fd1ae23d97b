build-dev/obj/src/store/store_private.o: src/store/store_private.c \
 src/store/store_ctx.h src/store/store_extra.h src/store/store.h \
 src/core/worker.h src/store/store_internal.h
src/store/store_ctx.h:
src/store/store_extra.h:
src/store/store.h:
src/core/worker.h:
src/store/store_internal.h:
