# PIClab — one Makefile for the proxy, the lab, the harness and their tests.
# Libraries come from pkg-config; output goes to build/, run results to reports/out/.

PKGS      := openssl libosip2 libevent libevent_openssl libcares ldns sqlite3 lua5.4 libpcap cunit \
             libedit
DEB_PKGS  := build-essential pkg-config libssl-dev libosip2-dev libevent-dev libc-ares-dev \
             libldns-dev libsqlite3-dev liblua5.4-dev lua5.4 lua-cjson libpcap-dev libcunit1-dev \
             tshark time sip-tester chromium chromium-driver curl libedit-dev \
             clang libclang-rt-14-dev \
             python3 python3-pexpect kamailio kamailio-tls-modules libxml2-utils poppler-utils

CC        ?= cc
BUILD     ?= build
V         ?= 0
SANITIZE  ?= 0
WERROR    ?= 1

# Recursively expanded so that pkg-config is asked only when something is compiled
# (after `make deps` had its chance to install it).
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation \
               -g -O2 -MMD -MP -Ilib
ifeq ($(WERROR),1)
CFLAGS_BASE += -Werror
endif
ifeq ($(SANITIZE),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -O1
LDFLAGS     += -fsanitize=address,undefined
BUILD       := build/san
endif
# The libFuzzer build (make fuzz): clang, every object instrumented for coverage, ASan, UBSan.
ifeq ($(FUZZ_LF),1)
CFLAGS_BASE += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer -O1 -Wno-unknown-warning-option
LDFLAGS     += -fsanitize=address,undefined
endif
CFLAGS_ALL = $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

src = $(shell find $(1) -name '*.c' -not -path '*/tests/*' 2>/dev/null | sort)
obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_SRC     := $(call src,lib)
FAKES_MAINS := fakes/dns/main.c fakes/ca/main.c fakes/im/main.c
FAKES_SRC   := $(filter-out $(FAKES_MAINS) fakes/provisioning/main.c,$(call src,fakes))
PROXY_MAINS := proxy/main.c proxy/apctl.c
PROXY_SRC   := $(filter-out $(PROXY_MAINS),$(call src,proxy))
HARN_SRC    := $(filter-out harness/main.c harness/load/%,$(call src,harness))
LOAD_SRC    := $(call src,harness/load)

LIBPIC   := $(BUILD)/libpic.a
LIBFAKES := $(BUILD)/libfakes.a
BIN      := $(BUILD)/bin

PROGRAMS := $(BIN)/accessproxy $(BIN)/apctl $(BIN)/piclab $(BIN)/fake-dns $(BIN)/labca \
            $(BIN)/fake-provider $(BIN)/fake-provisioning $(BIN)/piclab-load \
            $(BIN)/piclab-auditbench
TESTS    := $(BUILD)/tests/test_lib $(BUILD)/tests/test_fakes $(BUILD)/tests/test_proxy \
            $(BUILD)/tests/test_harness
# Fuzz targets built without libFuzzer, to replay fuzz/regress and fuzz/corpus (see 'fuzz').
FUZZ_ALL     := sip proxy capdec provform csv conf
FUZZ_REGRESS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_ALL))

.PHONY: all help deps deps-auto check unit scenarios scenarios-workers run lab bench soak clean \
        tests-build mutant mutants report-size fuzz fuzz-build fuzz-check fuzz-merge
.DEFAULT_GOAL := all

all: $(PROGRAMS) $(BUILD)/buildinfo ## build every program (default)

# What the report names as the binaries' identity: version, git hash, compiler and flags of this
# build tree (rewritten when a program is relinked).
$(BUILD)/buildinfo: $(PROGRAMS)
	@{ echo "version=$$(git describe --always --dirty 2>/dev/null || echo unknown)"; \
	  echo "git=$$(git rev-parse HEAD 2>/dev/null || echo unknown)"; \
	  echo "cc=$$($(CC) --version 2>/dev/null | head -1)"; \
	  echo "cflags=$(strip $(CFLAGS_BASE) $(CFLAGS))"; echo "ldflags=$(strip $(LDFLAGS))"; } > $@

help: ## list the targets
	@echo "PIClab make targets:"
	@grep -hE '^[a-z-]+:.*## ' Makefile | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-12s %s\n", $$1, $$2}'
	@echo "Variables: SANITIZE=1 (ASan+UBSan, in build/san; scenario limits and waits x3), V=1 (full command lines),"
	@echo "           WERROR=0 (warnings not fatal), SUITE=path (what 'run'/'scenarios' run),"
	@echo "           FUZZ_SECS=N (seconds per target for 'fuzz'), FUZZ_TARGETS='sip conf ...'"

deps: ## install the Debian packages the build and the lab need (as root)
	@missing=""; \
	for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all present"; exit 0; fi; \
	echo "deps: missing:$$missing — installing Debian packages"; \
	if [ "$$(id -u)" != 0 ]; then echo "deps: must run as root to install packages" >&2; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	  || { echo "deps: apt-get install$$missing failed" >&2; exit 1; }; \
	echo "deps: installed$$missing"

deps-auto:
	@$(MAKE) --no-print-directory deps

check: ## install what is missing, build, unit tests, the suite (and its "workers" tag with 2 workers), coverage --strict
	@$(MAKE) --no-print-directory deps-auto
	@$(MAKE) --no-print-directory all tests-build
	@rc=0; $(MAKE) --no-print-directory unit || rc=1; \
	$(MAKE) --no-print-directory fuzz-check || rc=1; \
	$(MAKE) --no-print-directory scenarios-workers || rc=1; \
	$(MAKE) --no-print-directory scenarios || rc=1; \
	$(BIN)/piclab coverage --strict || rc=1; exit $$rc

unit: tests-build ## run the CUnit tests and the harness self-tests (harness/tests/*.sh)
	@rc=0; for t in $(TESTS); do echo "== $$t"; PICLAB_ROOT=$(CURDIR) $$t || rc=1; done; \
	for t in harness/tests/*.sh; do [ -f "$$t" ] || continue; echo "== $$t"; \
	  BUILD=$(BUILD) PICLAB_ROOT=$(CURDIR) bash $$t || rc=1; done; \
	echo "== fuzz/regress.sh"; bash fuzz/regress.sh $(BUILD) $(FUZZ_ALL) || rc=1; exit $$rc

report-size: ## the report's index stays under 1 MB for a synthetic 1,000-scenario run (not in unit)
	@PICLAB_ROOT=$(CURDIR) bash harness/tests/slow/report_size.sh

tests-build: $(TESTS) invariant-mutants $(FUZZ_REGRESS)

# Deliberately broken proxies for harness/tests/mutants.sh: the capture invariants must catch
# them (built like every mutant of `make mutants`, in build/mutants/NAME/bin/).
invariant-mutants: $(PROGRAMS) $(BUILD)/buildinfo
	@$(MAKE) --no-print-directory mutant MUTANT=NO_TOPO
	@$(MAKE) --no-print-directory mutant MUTANT=NO_TRUST
.PHONY: invariant-mutants

# --- mutants: the proxy with one rule bent (-DAP_MUTANT_<NAME>, listed in harness/mutants.tsv).
# Only the files naming the mutant are compiled again; the rest of the proxy is the normal build.
MUTANT    ?=
MUT_DIR   := $(BUILD)/mutants/$(MUTANT)
MUT_FILES  = $(shell grep -rlw "AP_MUTANT_$(MUTANT)" proxy --include=*.c)
MUT_OBJS   = $(patsubst %.c,$(MUT_DIR)/obj/%.o,$(MUT_FILES))
MUT_KEEP   = $(filter-out $(call obj,$(MUT_FILES)),$(call obj,$(PROXY_SRC)))
MUT_JOBS  ?= 2

mutant: ## build one mutant: MUTANT=NAME -> build/mutants/NAME/bin/accessproxy and apctl
	@if [ -z "$(MUTANT)" ] || [ -z "$(MUT_FILES)" ]; then \
	  echo "mutant: MUTANT=NAME names no AP_MUTANT_NAME in proxy/ (see harness/mutants.tsv)" >&2; exit 2; fi
	@$(MAKE) --no-print-directory $(MUT_DIR)/bin/accessproxy $(MUT_DIR)/bin/apctl
	@sed 's/^version=.*/&+mutant-$(MUTANT)/; s/^cflags=.*/& -DAP_MUTANT_$(MUTANT)/' $(BUILD)/buildinfo \
	  > $(MUT_DIR)/buildinfo

ifneq ($(MUTANT),)
$(MUT_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC      $< (AP_MUTANT_$(MUTANT))"
	$(Q)$(CC) $(CFLAGS_ALL) -DAP_MUTANT_$(MUTANT) -c -o $@ $<

$(MUT_DIR)/bin/accessproxy: $(filter-out $(MUT_DIR)/obj/proxy/apctl.o,$(MUT_OBJS)) \
	$(filter-out $(call obj,$(MUT_FILES)),$(call obj,proxy/main.c)) $(MUT_KEEP) $(LIBPIC)
$(MUT_DIR)/bin/apctl: $(filter-out $(MUT_DIR)/obj/proxy/main.o,$(MUT_OBJS)) \
	$(filter-out $(call obj,$(MUT_FILES)),$(call obj,proxy/apctl.c)) $(MUT_KEEP) $(LIBPIC)
$(MUT_DIR)/bin/accessproxy $(MUT_DIR)/bin/apctl:
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(PKG_LIBS)
endif

mutants: all ## build every mutant of harness/mutants.tsv, run the scenarios that must kill it; prints "mutation score K of N"
	bash harness/mutate.sh -j $(MUT_JOBS)

SUITE ?= scenarios
scenarios: all ## run the scenario suite (SUITE=path to choose)
	$(BIN)/piclab run $(SUITE)

scenarios-workers: all ## the scenarios tagged "workers" against a proxy with 2 worker processes
	$(BIN)/piclab run --tag workers --workers 2 -o reports/out/workers $(SUITE)

run: ## the default suite in the lab; results in reports/out/<run>/
	@$(MAKE) --no-print-directory deps-auto
	@$(MAKE) --no-print-directory all
	$(BIN)/piclab run $(SUITE)

lab: all ## the default lab with its Lua console (piclab lab; LAB=N for 127.77.N.0/24)
	$(BIN)/piclab lab --lab $(or $(LAB),1)

bench: all ## benchmarks: sustainable and burst throughput beside Kamailio, latency, idle memory; 10,000-transaction replay; streaming decoder on 1 GB vs AES-GCM and tshark (BENCH_SECS, figures printed, never asserted)
	@bash bench/run.sh $(BUILD) | tee $(BUILD)/bench.txt
	@[ "$${BENCH_ONLY:-}" = idle ] || bash bench/decode.sh $(BUILD)

soak: all ## SOAK_MIN minutes (default 10) at 70% of the sustainable MTLS rate: a row a minute (p50/p99 over all answers, RSS, audit backlog and writer busy), an SVG plot, a flatness verdict (BENCH_NET, SOAK_RATE, SOAK_AUDIT=no)
	@bash bench/soak.sh $(BUILD)

clean: ## remove build output
	rm -rf build

# --- fuzzing: fuzz/fuzz_<target>.c, one entry point (LLVMFuzzerTestOneInput) per target ---
# The same file is linked twice: with libFuzzer (clang, build/fuzz: make fuzz) and with
# fuzz/standalone.c (any compiler, $(BUILD)/fuzz: replays fuzz/regress and fuzz/corpus in 'unit').
FUZZ_TARGETS ?= sip proxy capdec provform csv conf
FUZZ_SECS    ?= 60
FUZZ_CHECK_SECS ?= 8
FUZZ_CC      ?= clang
FUZZ_BUILD   := build/fuzz
LIBPROXY     := $(BUILD)/libproxy.a
LIBDECODE    := $(BUILD)/libdecode.a
DECODE_SRC   := $(call src,harness/decode)

$(LIBPROXY): $(call obj,$(PROXY_SRC))
	@mkdir -p $(@D)
	$(Q)ar rcs $@ $^
$(LIBDECODE): $(call obj,$(DECODE_SRC))
	@mkdir -p $(@D)
	$(Q)ar rcs $@ $^

# What each target links besides libpic.
FUZZ_LIBS_sip      :=
FUZZ_LIBS_proxy    := $(LIBPROXY)
FUZZ_LIBS_capdec   := $(LIBDECODE)
FUZZ_LIBS_provform := $(LIBFAKES)
FUZZ_LIBS_csv      := $(LIBPROXY)
FUZZ_LIBS_conf     := $(LIBPROXY)

.SECONDEXPANSION:
# objects made on the way to a fuzz binary stay (no rebuild on the next make)
.SECONDARY:
$(BUILD)/fuzz/fuzz_%: $(BUILD)/obj/fuzz/fuzz_%.o $(BUILD)/obj/fuzz/fuzzfile.o $(BUILD)/obj/fuzz/standalone.o \
		$$(FUZZ_LIBS_$$*) $(LIBPIC)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(filter %.a,$^) $(PKG_LIBS)
$(BUILD)/fuzz/lf/fuzz_%: $(BUILD)/obj/fuzz/fuzz_%.o $(BUILD)/obj/fuzz/fuzzfile.o $$(FUZZ_LIBS_$$*) $(LIBPIC)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(filter %.a,$^) \
		$(filter %.a,$^) $(PKG_LIBS)

fuzz-build: ## build the libFuzzer targets (clang, ASan+UBSan) into build/fuzz
	@$(MAKE) --no-print-directory deps-auto
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) FUZZ_LF=1 SANITIZE=0 \
		WERROR=$(WERROR) $(patsubst %,$(FUZZ_BUILD)/fuzz/lf/fuzz_%,$(FUZZ_TARGETS))

fuzz: fuzz-build ## run each fuzz target FUZZ_SECS seconds (default 60) from fuzz/corpus; fails on a crash
	@FUZZ_BIN=$(FUZZ_BUILD)/fuzz/lf bash fuzz/run.sh $(FUZZ_SECS) $(FUZZ_TARGETS)

fuzz-check: fuzz-build ## the CI share of 'fuzz': FUZZ_CHECK_SECS (8) seconds per target
	@FUZZ_BIN=$(FUZZ_BUILD)/fuzz/lf bash fuzz/run.sh $(FUZZ_CHECK_SECS) $(FUZZ_TARGETS)

fuzz-merge: fuzz-build ## minimise what 'fuzz' found into fuzz/corpus/<target> (keep it small)
	@FUZZ_BIN=$(FUZZ_BUILD)/fuzz/lf bash fuzz/merge.sh $(FUZZ_TARGETS)

# --- libraries and programs ---
$(LIBPIC): $(call obj,$(LIB_SRC))
	@mkdir -p $(@D)
	$(Q)ar rcs $@ $^

$(LIBFAKES): $(call obj,$(FAKES_SRC))
	@mkdir -p $(@D)
	$(Q)ar rcs $@ $^

$(BIN)/accessproxy: $(call obj,proxy/main.c $(PROXY_SRC)) $(LIBPIC)
$(BIN)/apctl: $(call obj,proxy/apctl.c $(PROXY_SRC)) $(LIBPIC)
$(BIN)/piclab: $(call obj,harness/main.c $(HARN_SRC)) $(LIBFAKES) $(LIBPIC)
$(BIN)/fake-dns: $(call obj,fakes/dns/main.c) $(LIBFAKES) $(LIBPIC)
$(BIN)/labca: $(call obj,fakes/ca/main.c) $(LIBFAKES) $(LIBPIC)
$(BIN)/fake-provider: $(call obj,fakes/im/main.c) $(LIBFAKES) $(LIBPIC)
$(BIN)/fake-provisioning: $(call obj,fakes/provisioning/main.c) $(LIBFAKES) $(LIBPIC)
$(BIN)/piclab-load: $(call obj,$(LOAD_SRC)) $(LIBPIC)
$(BIN)/piclab-auditbench: $(call obj,bench/auditbench.c $(PROXY_SRC)) $(LIBPIC)

$(BUILD)/tests/test_lib: $(call obj,$(wildcard lib/tests/*.c)) $(LIBPIC)
$(BUILD)/tests/test_fakes: $(call obj,$(wildcard fakes/tests/*.c) lib/tests/testmain.c) $(LIBFAKES) $(LIBPIC)
$(BUILD)/tests/test_proxy: $(call obj,$(wildcard proxy/tests/*.c) lib/tests/testmain.c $(PROXY_SRC)) $(LIBPIC)
$(BUILD)/tests/test_harness: $(call obj,$(wildcard harness/tests/*.c) lib/tests/testmain.c $(HARN_SRC) $(filter-out harness/load/main.c,$(LOAD_SRC))) $(LIBFAKES) $(LIBPIC)

$(PROGRAMS) $(TESTS):
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(filter %.a,$^) $(PKG_LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
