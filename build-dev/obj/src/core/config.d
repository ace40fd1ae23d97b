build-dev/obj/src/core/config.o: src/core/config.c src/core/config.h \
 src/core/registry.h
src/core/config.h:
src/core/registry.h:
