build-dev/obj/src/store/store_block.o: src/store/store_block.c \
 src/store/store_ctx.h src/store/store_extra.h src/store/store.h \
 src/core/worker.h src/store/store_internal.h
src/store/store_ctx.h:
src/store/store_extra.h:
src/store/store.h:
src/core/worker.h:
src/store/store_internal.h:
