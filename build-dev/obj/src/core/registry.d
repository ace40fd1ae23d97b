build-dev/obj/src/core/registry.o: src/core/registry.c \
 src/core/registry.h
src/core/registry.h:
