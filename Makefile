# binlogfs — build, test, install.
#
#   make            build ./binlogfs
#   make check      install missing Debian packages, build, run every test (prove)
#   make asan/tsan  the same tests against a sanitizer build
#   make fuzz       run the reader's fuzz target for FUZZ_SECONDS
#   make bench      the benchmarks in tests/bench (long; not part of check)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Objects go to $(B) (build/ by default; build/asan, build/tsan for the
# sanitizer builds), so the three never mix.

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man

# Every Debian package the build, the tests, the fuzzer and the benchmarks
# use. `make deps` installs the missing ones (as root).
DEB_PACKAGES = build-essential pkg-config clang libclang-rt-14-dev \
	libglib2.0-dev zlib1g-dev libzstd-dev libjson-glib-dev \
	libfuse3-dev fuse3 libmariadb-dev libmariadb-dev-compat \
	mariadb-server mariadb-client mariadb-test-data \
	libtest-harness-perl jq rsync sysbench procps psmisc python3 time

B ?= build
CC ?= cc
PKGS = glib-2.0 zlib libzstd json-glib-1.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS := $(shell pkg-config --libs fuse3 2>/dev/null)
MYSQL_CFLAGS := $(shell mariadb_config --cflags 2>/dev/null)
MYSQL_LIBS := $(shell mariadb_config --libs 2>/dev/null)

OPT ?= -O2 -g
WARN = -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers
CPPFLAGS += -Iinclude -Ireplay -D_GNU_SOURCE -DG_LOG_USE_STRUCTURED=1
CFLAGS += -std=c11 $(OPT) $(WARN) $(PKG_CFLAGS) $(FUSE_CFLAGS) $(MYSQL_CFLAGS) $(SAN_CFLAGS)
LDFLAGS += $(SAN_CFLAGS)
LIBS = $(PKG_LIBS) $(FUSE_LIBS) $(MYSQL_LIBS) -lpthread -lm

ENGINE_SRC := $(sort $(wildcard replay/*.c))
FRONT_SRC := $(sort $(wildcard fs/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(B)/%.o)
FRONT_OBJ := $(FRONT_SRC:%.c=$(B)/%.o)
UNIT_BIN := $(UNIT_SRC:%.c=$(B)/%)
LIB := $(B)/libbinlogfs.a
BIN := $(B)/binlogfs

INTEGRATION := $(sort $(wildcard tests/integration/[0-9]*.sh))

.PHONY: all deps check test unit asan tsan fuzz fuzz-build bench install uninstall clean demo

all: binlogfs

binlogfs: $(BIN)
	@if [ "$(B)" = build ]; then ln -sf $(BIN) binlogfs; fi

$(B)/%.o: %.c $(wildcard include/binlogfs/*.h replay/*.h fs/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@ && ar rcs $@ $^

$(BIN): $(FRONT_OBJ) $(LIB)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(FRONT_OBJ) $(LIB) $(LIBS)

# The shared fixtures (real binlogs) the unit tests read: beside the
# checkout, as in the project's workspace, else the workspace's own copy
# (a clone made elsewhere, e.g. /tmp/c, has no ../shared).
FIXTURES ?= $(or $(firstword $(wildcard $(CURDIR)/../shared/fixtures /work/shared/fixtures)),$(CURDIR)/../shared/fixtures)

$(B)/tests/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -DBL_SOURCE_DIR='"$(CURDIR)"' -DBL_FIXTURES='"$(FIXTURES)/"' -o $@ $< $(UNIT_OBJ) $(LIB) $(LDFLAGS) $(LIBS)

# Unit tests of frontend code also link the objects they test.
$(B)/tests/unit/test-status: UNIT_OBJ = $(B)/fs/status.o $(B)/fs/jsonw.o
$(B)/tests/unit/test-status: $(B)/fs/status.o $(B)/fs/jsonw.o

unit: $(UNIT_BIN)

# Installs the Debian packages that are missing; a no-op when all are there.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install:$$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The test run: unit tests (no server) then integration tests (real server,
# real mount). BINLOGFS tells the scripts which binary to test.
# SAN_ENV: environment for the sanitizer runtimes (set by asan/tsan).
test: binlogfs unit
	$(SAN_ENV) BINLOGFS=$(CURDIR)/$(BIN) BL_BUILD=$(CURDIR)/$(B) prove --exec '' --timer $(PROVE_FLAGS) \
		$(UNIT_BIN) $(INTEGRATION) tests/fuzz/run-fuzz.sh

check: deps
	$(MAKE) test

# G_SLICE=always-malloc: glib's slice allocator (GPtrArray, GString, GQueue
# nodes...) then uses malloc, which the sanitizers see: ASan catches use
# after free and LSan leaks of such objects, and TSan does not take a chunk
# handed between threads inside the allocator for a race.
asan: deps
	$(MAKE) test B=build/asan OPT='-O1 -g -fno-omit-frame-pointer' \
		SAN_CFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=all' \
		SAN_ENV='G_SLICE=always-malloc'

# The tsan binaries link tests/tsan/glib-sync.c (TSan annotations for the
# synchronisation glib gives binlogfs: GMutex, GCond, GAsyncQueue, g_once,
# GBytes' reference count; see there) and are relinked every time so that
# they always do; tests/tsan.supp holds what remains inside libraries.
tsan: deps
	@mkdir -p build/tsan/tests/tsan
	$(CC) -std=gnu11 -O1 -g -fsanitize=thread $(WARN) $(PKG_CFLAGS) -c -o build/tsan/tests/tsan/glib-sync.o \
		tests/tsan/glib-sync.c
	rm -f build/tsan/binlogfs $(UNIT_SRC:%.c=build/tsan/%)
	$(MAKE) test B=build/tsan OPT='-O1 -g' SAN_CFLAGS='-fsanitize=thread' \
		LDFLAGS='-fsanitize=thread $(CURDIR)/build/tsan/tests/tsan/glib-sync.o' \
		SAN_ENV='G_SLICE=always-malloc TSAN_OPTIONS=suppressions=$(CURDIR)/tests/tsan.supp'

# libFuzzer target for the reader (clang). `make fuzz FUZZ_SECONDS=600`
FUZZ_SECONDS ?= 60
FUZZ_BIN = build/fuzz/fuzz-reader
fuzz-build: $(FUZZ_BIN)
$(FUZZ_BIN): tests/fuzz/fuzz-reader.c $(ENGINE_SRC) $(wildcard include/binlogfs/*.h replay/*.h)
	@mkdir -p $(dir $@)
	clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) $(PKG_CFLAGS) \
		-o $@ tests/fuzz/fuzz-reader.c $(ENGINE_SRC) $(PKG_LIBS) $(MYSQL_LIBS) -lpthread -lm
fuzz: $(FUZZ_BIN)
	@mkdir -p build/fuzz/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build/fuzz/corpus tests/fuzz/corpus

bench: binlogfs
	tests/bench/run.sh

demo: deps
	$(MAKE) binlogfs
	examples/demo.sh

install: binlogfs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/binlogfs
	install -m 0644 doc/binlogfs.1 $(DESTDIR)$(MANDIR)/man1/binlogfs.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/binlogfs $(DESTDIR)$(MANDIR)/man1/binlogfs.1

clean:
	rm -rf build binlogfs
