build-dev/obj/src/core/registry_vars.o: src/core/registry_vars.c \
 src/core/registry.h
src/core/registry.h:
