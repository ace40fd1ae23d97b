build-dev/obj/src/transport/listener.o: src/transport/listener.c \
 src/transport/listener.h src/core/config.h src/core/log.h \
 src/core/worker.h src/transport/c2s.h src/transport/http.h
src/transport/listener.h:
src/core/config.h:
src/core/log.h:
src/core/worker.h:
src/transport/c2s.h:
src/transport/http.h:
