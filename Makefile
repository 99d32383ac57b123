# SPDX-License-Identifier: MIT
# mdesiem build.  `make` builds mdesiemd, `make check` runs every test suite,
# `make demo` shows the daemon delivering CEF from the bundled simulator.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

# Debian packages that provide what we build and test with.
BUILD_PKGS = libcurl4-openssl-dev libcjson-dev libssl-dev libinih-dev \
	     pkg-config gcc make
TEST_PKGS  = python3 openssl liblognorm-utils
PC_MODULES = libcurl libcjson inih libssl libcrypto

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wwrite-strings -Wpointer-arith -Wcast-qual \
       -Wundef -Wvla -Wnull-dereference -Wimplicit-fallthrough \
       -Wmissing-declarations -Werror
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT ?= -O2 -g
SAN ?=
V ?= 0
Q = $(if $(filter 1,$(V)),,@)

PC_CFLAGS := $(shell pkg-config --cflags $(PC_MODULES) 2>/dev/null)
PC_LIBS   := $(shell pkg-config --libs $(PC_MODULES) 2>/dev/null)

CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) $(SAN) \
	     -iquote include $(PC_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = -pie -Wl,-z,relro,-z,now $(SAN) $(LDFLAGS)
LIBS = $(PC_LIBS) -lm

SRCS     := $(wildcard src/*.c)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
LIB_OBJS := $(patsubst src/%.c,$(BUILD)/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOL_SRCS := $(wildcard tests/bench/*.c)

VERSION = 0.1.0

.PHONY: all deps check unit integration demo asan install clean \
	format format-check analyze fuzz fuzz-smoke bench

all: deps $(BUILD)/mdesiemd

# Install missing Debian packages when root, otherwise name them.
deps:
	@sh tests/deps.sh "$(BUILD_PKGS)" "$(PC_MODULES)"

$(BUILD)/%.o: src/%.c $(wildcard include/*.h src/*.h) | $(BUILD)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -DMDESIEM_VERSION='"$(VERSION)"' -c -o $@ $<

$(BUILD):
	@mkdir -p $(BUILD)/tests

$(BUILD)/libmdesiem.a: $(LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/mdesiemd: $(BUILD)/main.o $(BUILD)/libmdesiem.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/check.h $(BUILD)/libmdesiem.a
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS_ALL) -iquote tests/unit $(LDFLAGS_ALL) -o $@ $< \
	    $(BUILD)/libmdesiem.a $(LIBS)

unit: all $(UNIT_BINS)

check: all $(UNIT_BINS)
	@sh tests/deps.sh "$(TEST_PKGS)" ""
	@BUILD=$(BUILD) sh tests/run.sh

demo: all
	@sh tests/deps.sh "$(TEST_PKGS)" ""
	@BUILD=$(BUILD) sh tests/demo.sh

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	    HARDEN="-fPIE" check

analyze: deps
	$(CC) $(CFLAGS_ALL) -fanalyzer -fsyntax-only $(SRCS)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --inline-suppr --std=c11 -I include $(SRCS)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)/etc/mdesiem \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system \
	    $(DESTDIR)$(PREFIX)/share/doc/mdesiem
	install -m 0755 $(BUILD)/mdesiemd $(DESTDIR)$(PREFIX)/sbin/mdesiemd
	install -m 0644 conf/mdesiem.conf.example \
	    $(DESTDIR)$(PREFIX)/share/doc/mdesiem/mdesiem.conf.example
	test -e $(DESTDIR)/etc/mdesiem/mdesiem.conf || install -m 0640 \
	    conf/mdesiem.conf.example $(DESTDIR)/etc/mdesiem/mdesiem.conf
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' systemd/mdesiemd.service > \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system/mdesiemd.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/mdesiemd.service

format:
	clang-format -i src/*.c include/*.h tests/unit/*.c tests/unit/*.h

format-check:
	@clang-format --dry-run --Werror src/*.c include/*.h tests/unit/*.c \
	    tests/unit/*.h && echo "format-check: clean"

clean:
	rm -rf build build-asan build-fuzz
