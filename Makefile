# SPDX-License-Identifier: MIT
# mdesiem build.  `make` builds mdesiemd, `make check` runs every test suite,
# `make demo` shows the daemon delivering Graph alerts from the bundled
# simulator.  Each first installs the Debian packages it needs (as root) or
# names them with the apt-get line to run (tests/deps.sh).

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

# The Debian packages the build and the tests need: the one list to edit
# when a module or a test needs another one.  gcc only recommends libc6-dev
# (the C library headers), so it is named; ca-certificates is the system CA
# bundle the daemon needs to reach Microsoft.  Each pkg-config module below
# comes from one of BUILD_PKGS.  rsyslog and syslog-ng-core conflict in
# Debian: never both in TEST_PKGS.
BUILD_PKGS = gcc libc6-dev make pkg-config ca-certificates \
	     libcurl4-openssl-dev libcjson-dev libssl-dev libinih-dev \
	     librdkafka-dev
TEST_PKGS  = python3 openssl liblognorm-utils systemd kcat faketime \
	     iproute2
BENCH_PKGS = valgrind
FUZZ_PKGS  = clang libclang-rt-14-dev
ANALYZE_PKGS = cppcheck
PC_MODULES = libcurl libcjson inih libssl libcrypto rdkafka

# What `deps` installs: the build's packages, plus the tests' for the goals
# that run tests.  One apt-get run for all of them.
TEST_GOALS = check demo unit asan bench bench-quick
goal_pkgs  = $(if $(filter $(1),$(MAKECMDGOALS)),$(2))
DEPS_PKGS  = $(BUILD_PKGS) $(call goal_pkgs,$(TEST_GOALS),$(TEST_PKGS)) \
	     $(call goal_pkgs,bench,$(BENCH_PKGS)) \
	     $(call goal_pkgs,fuzz fuzz-smoke,$(FUZZ_PKGS)) \
	     $(call goal_pkgs,analyze,$(ANALYZE_PKGS))

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wwrite-strings -Wpointer-arith -Wcast-qual \
       -Wundef -Wvla -Wnull-dereference -Wimplicit-fallthrough \
       -Wmissing-declarations -Werror
OPT ?= -O2 -g
# _FORTIFY_SOURCE needs optimisation: without it the checks do nothing and
# newer glibc warns (an error under -Werror).  It is left out for OPT=-O0
# or an OPT with no -O level.
FORTIFY = $(if $(filter-out -O0,$(lastword $(filter -O%,$(OPT)))),\
	  -D_FORTIFY_SOURCE=2)
HARDEN = $(FORTIFY) -fstack-protector-strong -fPIE
SAN ?=
V ?= 0
Q = $(if $(filter 1,$(V)),,@)

VERSION = 0.1.0

# pkg-config is asked only after `deps` has installed the packages: the
# $(FLAGS) rule writes its answers to files that these variables read when
# a recipe runs, never when make reads this file.
PC_CFLAGS = $(file <$(BUILD)/pkg-cflags)
PC_LIBS   = $(file <$(BUILD)/pkg-libs)

BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(OPT) $(WARN) $(HARDEN) \
	      $(SAN) -iquote include -DMDESIEM_VERSION='"$(VERSION)"' $(CFLAGS)
CFLAGS_ALL  = $(BASE_CFLAGS) $(PC_CFLAGS)
LDFLAGS_ALL = -pie -Wl,-z,relro,-z,now $(SAN) $(LDFLAGS)
LIBS = $(PC_LIBS) -lm -pthread

# Everything compiled depends on this file, which changes only when the
# compiler, a flag, VERSION or a pkg-config answer does: changing any of
# them rebuilds everything, and nothing else does.  A new rule that
# compiles names $(FLAGS) as a prerequisite (that also makes it wait for
# deps) and filters it out of $^.
FLAGS = $(BUILD)/flags
sq = $(subst ','\'',$(1))
FLAGS_TEXT = CC=$(CC) CFLAGS=$(BASE_CFLAGS) LDFLAGS=$(LDFLAGS_ALL)

SRCS     := $(wildcard src/*.c)
HDRS     := $(wildcard include/*.h src/*.h)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
LIB_OBJS := $(patsubst src/%.c,$(BUILD)/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOL_SRCS := $(wildcard tests/bench/*.c)

.PHONY: all deps check unit integration demo asan install clean \
	format format-check analyze fuzz fuzz-smoke bench FORCE

all: $(BUILD)/mdesiemd

# Install the missing Debian packages when root, otherwise name them and
# stop; every compile waits for it (through $(FLAGS)), also under -j.
deps:
	@sh tests/deps.sh "$(sort $(DEPS_PKGS))" "$(PC_MODULES)"

$(FLAGS): FORCE | deps
	@mkdir -p $(BUILD)/tests
	@set -e; d='$(call sq,$(BUILD))'; \
	c=$$(pkg-config --cflags $(PC_MODULES)); \
	l=$$(pkg-config --libs $(PC_MODULES)); \
	printf '%s' "$$c" >"$$d/pkg-cflags.new"; \
	printf '%s' "$$l" >"$$d/pkg-libs.new"; \
	printf '%s\n' '$(call sq,$(FLAGS_TEXT))' "$$c" "$$l" >"$$d/flags.new"; \
	for f in pkg-cflags pkg-libs flags; do \
		if cmp -s "$$d/$$f.new" "$$d/$$f"; then rm -f "$$d/$$f.new"; \
		else mv -f "$$d/$$f.new" "$$d/$$f"; fi; \
	done

$(BUILD)/%.o: src/%.c $(HDRS) $(FLAGS)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/libmdesiem.a: $(LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/mdesiemd: $(BUILD)/main.o $(BUILD)/libmdesiem.a $(FLAGS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o %.a,$^) $(LIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) \
		$(BUILD)/libmdesiem.a $(FLAGS)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS_ALL) -iquote tests/unit $(LDFLAGS_ALL) -o $@ $< \
	    $(BUILD)/libmdesiem.a $(LIBS)

unit: all $(UNIT_BINS)

check: all $(UNIT_BINS)
	@BUILD=$(BUILD) sh tests/run.sh

# make demo [API=graph|alerts|siem] [FORMAT=cef|leef|json]
API ?= graph
FORMAT ?= cef
demo: all
	@BUILD=$(BUILD) API=$(API) FORMAT=$(FORMAT) sh tests/demo.sh

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	    HARDEN="-fPIE" check

analyze: $(FLAGS)
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
	test -e $(DESTDIR)/etc/mdesiem/mdesiem.conf || install -m 0644 \
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
	rm -rf $(BUILD) build-asan $(FUZZ_BUILD)

# --- benchmarks (tests/bench) ---
# `make bench` measures throughput, memory and per-record cost against the
# floor (tests/bench/run.py; BENCH_ARGS passes options, e.g. --runs 5);
# `make bench-quick` is the short smoke run that `make check` also does.
BENCH_TOOLS = $(BUILD)/bench/benchsrv $(BUILD)/bench/sinkcount \
	      $(BUILD)/bench/floor $(BUILD)/bench/measure
BENCH_BINS  = $(BENCH_TOOLS) $(BUILD)/bench/microbench
BENCH_ARGS ?=

.PHONY: bench-quick bench-tools

bench-tools: $(BENCH_BINS)

$(BENCH_TOOLS): $(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libmdesiem.a \
		$(FLAGS)
	@mkdir -p $(BUILD)/bench
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(BUILD)/libmdesiem.a \
	    $(LIBS)

# The whole archive: formatters the micro-benchmark only names weakly.
$(BUILD)/bench/microbench: tests/bench/microbench.c $(BUILD)/libmdesiem.a \
		$(FLAGS)
	@mkdir -p $(BUILD)/bench
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< \
	    -Wl,--whole-archive $(BUILD)/libmdesiem.a -Wl,--no-whole-archive \
	    $(LIBS)

bench: all $(BENCH_BINS)
	@BUILD=$(BUILD) python3 tests/bench/run.py $(BENCH_ARGS)

bench-quick: all $(BENCH_TOOLS)
	@BUILD=$(BUILD) python3 tests/bench/run.py --quick

# The check suite runs the quick benchmark (test_bench_quick.sh).
check: $(BENCH_TOOLS)

# --- Kafka test tools (tests/kafka) ---
# mockkafka: librdkafka's mock cluster (real Kafka protocol brokers on
# loopback) driven from stdin, for the integration tests and `make bench`.
KAFKA_TOOLS = $(BUILD)/kafka/mockkafka

$(KAFKA_TOOLS): $(BUILD)/kafka/%: tests/kafka/%.c $(FLAGS)
	@mkdir -p $(BUILD)/kafka
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(LIBS)

check: $(KAFKA_TOOLS)
bench: $(KAFKA_TOOLS)

# --- fuzzing (tests/fuzz) ---
# `make fuzz` builds the libFuzzer targets with clang into build-fuzz/;
# `make fuzz-smoke` runs each for FUZZ_TIME seconds from its seed corpus
# and fails on any crash, leak or sanitizer report.  Debian: clang and
# libclang-rt-14-dev (libFuzzer and the sanitizer runtimes).
FUZZ_CC      ?= clang
FUZZ_BUILD    = build-fuzz
FUZZ_TIME    ?= 60
FUZZ_ARGS    ?=
FUZZ_TARGETS  = fuzz_siem fuzz_graph fuzz_alerts fuzz_incidents fuzz_jsonscan
FUZZ_LIB      = src/buf.c src/text.c src/pairs.c src/cef.c src/leef.c \
		src/severity.c \
		src/json_out.c src/record.c src/record_alert.c src/ts.c \
		src/errcode.c src/jsonscan.c src/jsonfix.c
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -g -O2 -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -iquote include -iquote tests/fuzz \
		$(shell pkg-config --cflags libcjson 2>/dev/null)
FUZZ_LIBS     = $(shell pkg-config --libs libcjson 2>/dev/null || \
		echo -lcjson)
FUZZ_BINS     = $(patsubst %,$(FUZZ_BUILD)/%,$(FUZZ_TARGETS))

fuzz: $(FUZZ_BINS)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_formats.h \
		$(FUZZ_LIB) $(wildcard include/*.h) | deps
	@mkdir -p $(FUZZ_BUILD)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB) $(FUZZ_LIBS)

fuzz-smoke: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		s=$${t#fuzz_}; c=$(FUZZ_BUILD)/corpus/$$s; mkdir -p $$c; \
		echo "  RUN     $$t ($(FUZZ_TIME) s)"; \
		$(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_TIME) -timeout=10 \
		    -rss_limit_mb=2048 -dict=tests/fuzz/json.dict \
		    -artifact_prefix=$(FUZZ_BUILD)/$$t- -print_final_stats=1 \
		    $(FUZZ_ARGS) $$c tests/fuzz/seeds/$$s \
		    >$(FUZZ_BUILD)/$$t.log 2>&1 || { \
			tail -n 60 $(FUZZ_BUILD)/$$t.log; \
			echo "fuzz-smoke: $$t failed (log: $(FUZZ_BUILD)/$$t.log)"; \
			exit 1; }; \
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)' \
		    $(FUZZ_BUILD)/$$t.log | sed "s/^/        $$t /"; \
	done
