build-dev/obj/src/metrics/metrics.o: src/metrics/metrics.c \
 src/metrics/metrics.h src/core/buf.h src/xml/xml.h
src/metrics/metrics.h:
src/core/buf.h:
src/xml/xml.h:
