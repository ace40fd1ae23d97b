build-dev/obj/src/core/secret.o: src/core/secret.c src/core/secret.h
src/core/secret.h:
