# PLUCS: one readable Makefile. `make` builds build/plucsd and build/plucs,
# `make check` runs unit and integration tests (plus an ASan/UBSan run),
# `make demo` starts a throwaway directory and server on loopback.

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc

PKGS    := libevent_core libevent_openssl libevent_pthreads expat ldap lber \
           libssl libcrypto libidn sqlite3 libcares

# CFLAGS, LDFLAGS and LDLIBS are the user's (optimisation, debug info,
# extras: `make CFLAGS=-O0` is fine); what the build needs is in the PLUCS_*
# variables below, which are always added.
CFLAGS  ?= -O2 -g
PLUCS_BASE    := -std=gnu11 -D_GNU_SOURCE -Isrc
PLUCS_WARN    := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wformat=2
PLUCS_CFLAGS  := $(PLUCS_BASE) $(PLUCS_WARN) -fstack-protector-strong \
                 $(shell pkg-config --cflags $(PKGS))
PLUCS_LDFLAGS :=
PLUCS_LDLIBS  := $(shell pkg-config --libs $(PKGS)) -lhttp_parser -lwslay -lpthread
ifeq ($(WERROR),1)
PLUCS_CFLAGS  += -Werror
endif
ifeq ($(SAN),1)
# ASan replaces the checked string functions itself: no _FORTIFY_SOURCE.
PLUCS_CFLAGS  += -U_FORTIFY_SOURCE -fsanitize=address,undefined -fno-omit-frame-pointer
PLUCS_LDFLAGS += -fsanitize=address,undefined
else ifneq ($(filter-out -O0,$(lastword $(filter -O%,$(CFLAGS)))),)
# _FORTIFY_SOURCE needs optimisation: only when the last -O of CFLAGS is not -O0.
PLUCS_CFLAGS  += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif

MAINS   := src/plucsd.c src/cli/plucs.c
LIBSRC  := $(filter-out $(MAINS),$(wildcard src/*/*.c))
LIBOBJ  := $(LIBSRC:%.c=$(BUILD)/obj/%.o)
UNITSRC := $(wildcard tests/unit/test_*.c)
UNITBIN := $(UNITSRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit integration asan demo install clean deps man deb
all: $(BUILD)/plucsd $(BUILD)/plucs

# Man pages, generated from each program's --help (scripts/manpage).
MANPAGES := $(BUILD)/man/plucsd.8 $(BUILD)/man/plucs.8
man: $(MANPAGES)

$(BUILD)/man/plucsd.8: $(BUILD)/plucsd scripts/manpage src/core/version.h
	@mkdir -p $(dir $@)
	scripts/manpage $(BUILD)/plucsd 8 "the PLUCS XMPP server" > $@.tmp && mv $@.tmp $@

$(BUILD)/man/plucs.8: $(BUILD)/plucs scripts/manpage src/core/version.h
	@mkdir -p $(dir $@)
	scripts/manpage $(BUILD)/plucs 8 "administer PLUCS: registry, status, reload, Apache snippet" \
	  > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(PLUCS_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libplucs.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/plucsd: $(BUILD)/obj/src/plucsd.o $(BUILD)/libplucs.a
	$(CC) $(PLUCS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PLUCS_LDLIBS) $(LDLIBS)

$(BUILD)/plucs: $(BUILD)/obj/src/cli/plucs.o $(BUILD)/libplucs.a
	$(CC) $(PLUCS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PLUCS_LDLIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libplucs.a
	@mkdir -p $(dir $@)
	$(CC) $(PLUCS_CFLAGS) $(CFLAGS) $(PLUCS_LDFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< $(BUILD)/libplucs.a \
	  $(PLUCS_LDLIBS) $(LDLIBS) -lcmocka

deps:
	@scripts/deps

unit: $(UNITBIN)
	@set -e; for t in $(UNITBIN); do echo "== $$t"; $$t; done

# Test files run TEST_JOBS at a time (pytest-xdist; files sharing fixed
# addresses are grouped in tests/integration/conftest.py).
TEST_JOBS ?= 2
integration: all
	PLUCS_BUILD=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider \
	  -n $(TEST_JOBS) --dist loadgroup tests/integration

# make check: dependencies, -Werror build, unit tests, every fuzz target for
# 20 s (fuzz-short, below), the Debian package (installed and purged by
# tests/integration/test_deb.py), integration tests, then the same
# integration tests against an ASan+UBSan build.
check: deps
	$(MAKE) WERROR=1 all unit
	$(MAKE) fuzz-short
	$(MAKE) deb
	$(MAKE) WERROR=1 integration
	$(MAKE) WERROR=1 SAN=1 BUILD=build-asan all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	PLUCS_SANITIZED=1 $(MAKE) BUILD=build-asan integration

demo: deps all
	scripts/demo

# libFuzzer targets (clang), one file each: tests/fuzz/fuzz_<name>.c. The
# whole library is compiled once more with clang under $(BUILD)/fuzz/obj
# (-fsanitize=fuzzer-no-link,address,undefined) so every target links the
# real code it exercises. `make fuzz FUZZ_SECONDS=N` runs every target N
# seconds, one after another (tests/fuzz/run); new inputs go to
# $(BUILD)/fuzz/corpus-<name>, the committed seeds tests/fuzz/corpus_<name>/
# are only read; crashes are saved as $(BUILD)/fuzz/crash-<name>-*;
# $(BUILD)/fuzz/summary.txt gets one line per target ("<name>: N execs,
# 0 crashes"); the exit status is non-zero when any target crashed.
# `make fuzz-short` (part of check) is the same with 20 s per target.
FUZZ_SECONDS  ?= 60
FUZZ_DIR      := $(BUILD)/fuzz
FUZZ_NAMES    := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS     := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_CFLAGS   := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
                 -fno-sanitize-recover=undefined $(PLUCS_BASE) $(shell pkg-config --cflags $(PKGS))
FUZZ_OBJ      := $(LIBSRC:%.c=$(FUZZ_DIR)/obj/%.o)
# Link-time seams of the stream-level target (see its first comment).
FUZZ_LDFLAGS_stream := -Wl,--wrap=directory_auth -Wl,--wrap=directory_snapshot
FUZZ_LDFLAGS_ws     := $(FUZZ_LDFLAGS_stream) -Wl,--wrap=transport_conn_closed
FUZZ_LDFLAGS_bosh_poll := $(FUZZ_LDFLAGS_stream) -Wl,--wrap=http_reply
# fuzz_s2s: the outgoing verification connection (see its first comment)
FUZZ_LDFLAGS_s2s    := $(FUZZ_LDFLAGS_stream) -Wl,--wrap=s2s_out_add_verify
.PHONY: fuzz fuzz-build fuzz-short

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/libplucs.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libplucs.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP $(FUZZ_LDFLAGS_$*) -o $@ $< $(FUZZ_DIR)/libplucs.a \
	  $(PLUCS_LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	tests/fuzz/run $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-short: fuzz-build
	tests/fuzz/run $(FUZZ_DIR) 20 $(FUZZ_NAMES)

install: all man
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/plucs/schema $(DESTDIR)$(PREFIX)/share/doc/plucs \
	  $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)/lib/systemd/system $(DESTDIR)/etc/plucs
	install -m 644 $(MANPAGES) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 755 $(BUILD)/plucsd $(DESTDIR)$(PREFIX)/sbin/plucsd
	install -m 755 $(BUILD)/plucs $(DESTDIR)$(PREFIX)/bin/plucs
	install -m 644 schema/plucs.schema schema/plucs.ldif $(DESTDIR)$(PREFIX)/share/plucs/schema/
	install -m 644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/plucs/
	sed 's|@PREFIX@|$(PREFIX)|g' scripts/plucs.service.in > $(DESTDIR)/lib/systemd/system/plucs.service

# make ucs: the UCS app files (ucs/, docs/ucs.md) staged in $(BUILD)/ucs/ at
# the paths they are installed to on UCS, with the UCR variable descriptions
# (registry.info) generated from the built-in variable table so they cannot
# drift from what plucsd validates. The package plucs-ucs (make deb) ships
# this tree as it is.
UCS_STAGE := $(BUILD)/ucs
.PHONY: ucs
ucs: $(BUILD)/plucs
	rm -rf $(UCS_STAGE)
	install -d $(UCS_STAGE)/usr/lib/univention-install $(UCS_STAGE)/usr/lib/univention-uninstall \
	  $(UCS_STAGE)/usr/share/plucs/ucs \
	  $(UCS_STAGE)/etc/univention/registry.info/variables \
	  $(UCS_STAGE)/etc/univention/registry.info/categories \
	  $(UCS_STAGE)/etc/univention/templates/info $(UCS_STAGE)/etc/univention/templates/modules \
	  $(UCS_STAGE)/etc/univention/service.info/services \
	  $(UCS_STAGE)/usr/lib/univention-server/server_password_change.d
	install -m 755 ucs/50plucs.inst $(UCS_STAGE)/usr/lib/univention-install/
	install -m 755 ucs/server-password-change \
	  $(UCS_STAGE)/usr/lib/univention-server/server_password_change.d/plucs
	# The unjoin script runs after the package is gone (postrm, or a later
	# univention-run-join-scripts on a member server): UCS keeps it in
	# univention-uninstall/ and the prerm copies it to univention-install/;
	# plucs-ucs.lib goes with the package, so it is inlined here.
	awk '$$0 == ". /usr/share/plucs/ucs/plucs-ucs.lib" { while ((getline l < "ucs/plucs-ucs.lib") > 0) print l; next } { print }' \
	  ucs/50plucs.uinst > $(UCS_STAGE)/usr/lib/univention-uninstall/50plucs.uinst
	chmod 755 $(UCS_STAGE)/usr/lib/univention-uninstall/50plucs.uinst
	! grep -qx '\. /usr/share/plucs/ucs/plucs-ucs.lib' $(UCS_STAGE)/usr/lib/univention-uninstall/50plucs.uinst
	install -m 644 ucs/plucs-ucs.lib $(UCS_STAGE)/usr/share/plucs/ucs/
	install -m 755 ucs/plucs-ucs-ldif $(UCS_STAGE)/usr/share/plucs/ucs/
	$(BUILD)/plucs config table --format ucr-info > $(UCS_STAGE)/etc/univention/registry.info/variables/plucs.cfg
	install -m 644 ucs/plucs.categories $(UCS_STAGE)/etc/univention/registry.info/categories/plucs.cfg
	install -m 644 ucs/plucs.info $(UCS_STAGE)/etc/univention/templates/info/plucs.info
	install -m 644 ucs/plucs.py $(UCS_STAGE)/etc/univention/templates/modules/plucs.py
	install -m 644 ucs/plucs.service.cfg $(UCS_STAGE)/etc/univention/service.info/services/plucs.cfg

clean:
	rm -rf build build-asan

# make deb: the Debian packages plucs and plucs-ucs (debian/, debhelper;
# plucs-ucs holds what `make ucs` stages) in build/deb/: the
# files git knows (committed or not, minus ignored ones, tests and pytest
# temp dirs; every file outside a git checkout) are copied to build/deb/plucs-VERSION and built there with
# `dpkg-buildpackage -b -us -uc`, so neither the tree nor its parent folder
# gets build products. The .deb is rebuilt only when a packaged file changed.
DEB_VERSION := $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
DEB_ARCH    := $(shell dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null)
DEB_DIR     := build/deb
DEB_FILE    := $(DEB_DIR)/plucs_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_UCS_FILE := $(DEB_DIR)/plucs-ucs_$(DEB_VERSION)_all.deb
DEB_SRC     := $(DEB_DIR)/plucs-$(DEB_VERSION)
DEB_LIST    := { git ls-files -co --exclude-standard 2>/dev/null || \
                 find . -type f ! -path './.git/*' | sed 's|^\./||'; } | \
               grep -Ev '^(tests|\.pt|build[^/]*|demo)/' | \
               while read -r f; do [ -f "$$f" ] && echo "$$f"; done
DEB_INPUTS  := $(shell $(DEB_LIST) 2>/dev/null)
deb: $(DEB_FILE) $(DEB_UCS_FILE)

# one dpkg-buildpackage makes both packages
$(DEB_UCS_FILE): $(DEB_FILE)
	@test -f $@ || { rm -f $(DEB_FILE); $(MAKE) $(DEB_FILE); }

$(DEB_FILE): $(DEB_INPUTS)
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	$(DEB_LIST) | tar -T - -cf - | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && \
	  DEB_BUILD_OPTIONS="noddebs parallel=2 $(DEB_BUILD_OPTIONS)" dpkg-buildpackage -b -us -uc
	rm -rf $(DEB_SRC)
	@echo "make deb: $(DEB_FILE) $(DEB_UCS_FILE)"

# make bench (not part of check): the load generator, the floor forwarder and
# the side-by-side run against ejabberd, Prosody and jabberd2 (bench/run;
# BENCH_QUICK=1 for a short run, BENCH_USERS=N for the directory size).
BENCHSRC := bench/bench_main.c bench/bench_conn.c bench/bench_stats.c bench/bench_ldap.c
# The load generator takes its user-name and password formats from the
# command line on purpose: -Wformat=2 minus the non-literal format check.
BENCH_CFLAGS := $(PLUCS_CFLAGS) -Wno-format-nonliteral
.PHONY: bench
$(BUILD)/plucs-bench: $(BENCHSRC) bench/bench.h
	@mkdir -p $(BUILD)
	$(CC) $(BENCH_CFLAGS) $(CFLAGS) $(PLUCS_LDFLAGS) $(LDFLAGS) -o $@ $(BENCHSRC) \
	  $(PLUCS_LDLIBS) $(LDLIBS)

$(BUILD)/plucs-floor: bench/floor.c
	@mkdir -p $(BUILD)
	$(CC) $(BENCH_CFLAGS) $(CFLAGS) $(PLUCS_LDFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

bench: deps
	$(MAKE) WERROR=1 all $(BUILD)/plucs-bench $(BUILD)/plucs-floor
	PLUCS_BUILD=$(abspath $(BUILD)) bench/run

-include $(shell find $(BUILD)/obj $(BUILD)/tests $(BUILD)/fuzz -name '*.d' 2>/dev/null)
