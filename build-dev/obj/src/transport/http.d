build-dev/obj/src/transport/http.o: src/transport/http.c \
 src/transport/http.h src/core/worker.h src/core/buf.h src/core/config.h \
 src/core/idmap.h src/core/log.h src/transport/bosh.h \
 src/transport/http_reader.h src/metrics/metrics.h src/transport/poll.h \
 src/transport/transport.h src/transport/websocket.h
src/transport/http.h:
src/core/worker.h:
src/core/buf.h:
src/core/config.h:
src/core/idmap.h:
src/core/log.h:
src/transport/bosh.h:
src/transport/http_reader.h:
src/metrics/metrics.h:
src/transport/poll.h:
src/transport/transport.h:
src/transport/websocket.h:
