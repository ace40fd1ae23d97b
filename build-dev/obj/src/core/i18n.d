build-dev/obj/src/core/i18n.o: src/core/i18n.c src/core/i18n.h \
 src/core/config.h
src/core/i18n.h:
src/core/config.h:
