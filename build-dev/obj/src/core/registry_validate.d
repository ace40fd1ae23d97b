build-dev/obj/src/core/registry_validate.o: src/core/registry_validate.c \
 src/core/registry.h
src/core/registry.h:
