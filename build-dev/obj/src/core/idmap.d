build-dev/obj/src/core/idmap.o: src/core/idmap.c src/core/idmap.h
src/core/idmap.h:
