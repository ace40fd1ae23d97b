build-dev/obj/src/modules/async_job.o: src/modules/async_job.c \
 src/modules/async_job.h
src/modules/async_job.h:
