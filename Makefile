# PIClab — one Makefile for the proxy, the lab, the harness and their tests.
# Libraries come from pkg-config; output goes to build/, run results to reports/out/.

PKGS      := openssl libosip2 libevent libevent_openssl libcares ldns sqlite3 lua5.4 libpcap cunit \
             libedit
DEB_PKGS  := build-essential pkg-config libssl-dev libosip2-dev libevent-dev libc-ares-dev \
             libldns-dev libsqlite3-dev liblua5.4-dev lua5.4 lua-cjson libpcap-dev libcunit1-dev \
             tshark sip-tester chromium chromium-driver curl libedit-dev \
             python3-pexpect kamailio kamailio-tls-modules

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
            $(BIN)/fake-provider $(BIN)/fake-provisioning $(BIN)/piclab-load
TESTS    := $(BUILD)/tests/test_lib $(BUILD)/tests/test_fakes $(BUILD)/tests/test_proxy \
            $(BUILD)/tests/test_harness

.PHONY: all help deps deps-auto check unit scenarios run bench clean tests-build
.DEFAULT_GOAL := all

all: $(PROGRAMS) ## build every program (default)

help: ## list the targets
	@echo "PIClab make targets:"
	@grep -hE '^[a-z-]+:.*## ' Makefile | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-12s %s\n", $$1, $$2}'
	@echo "Variables: SANITIZE=1 (ASan+UBSan, in build/san), V=1 (full command lines),"
	@echo "           WERROR=0 (warnings not fatal), SUITE=path (what 'run'/'scenarios' run)"

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

check: ## install what is missing, build, run unit tests and the scenario suite
	@$(MAKE) --no-print-directory deps-auto
	@$(MAKE) --no-print-directory all tests-build
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory scenarios

unit: tests-build ## run the CUnit tests
	@rc=0; for t in $(TESTS); do echo "== $$t"; PICLAB_ROOT=$(CURDIR) $$t || rc=1; done; \
	for t in harness/tests/*.sh; do [ -f "$$t" ] || continue; echo "== $$t"; \
	  BUILD=$(BUILD) PICLAB_ROOT=$(CURDIR) bash $$t || rc=1; done; exit $$rc

MUTANTS := $(BUILD)/mutant-no-topo/bin/accessproxy $(BUILD)/mutant-no-trust/bin/accessproxy

tests-build: $(TESTS) $(MUTANTS)

# Deliberately broken proxies for harness/tests/mutants.sh: the capture invariants must catch them.
$(BUILD)/mutant-no-topo/bin/accessproxy: FORCE
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/mutant-no-topo WERROR=$(WERROR) \
		CFLAGS="$(CFLAGS) -DAP_MUTANT_NO_TOPO" $@ $(@D)/apctl
$(BUILD)/mutant-no-trust/bin/accessproxy: FORCE
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/mutant-no-trust WERROR=$(WERROR) \
		CFLAGS="$(CFLAGS) -DAP_MUTANT_NO_TRUST" $@ $(@D)/apctl
.PHONY: FORCE
FORCE:

SUITE ?= scenarios
scenarios: all ## run the scenario suite (SUITE=path to choose)
	$(BIN)/piclab run $(SUITE)

run: ## the default suite in the lab; results in reports/out/<run>/
	@$(MAKE) --no-print-directory deps-auto
	@$(MAKE) --no-print-directory all
	$(BIN)/piclab run $(SUITE)

bench: all ## benchmarks: proxy throughput/latency/memory, capture decoder vs tshark (figures printed, never asserted)
	@if [ -f bench/run.sh ]; then bash bench/run.sh $(BUILD); fi
	@bash bench/decode.sh $(BUILD)

clean: ## remove build output
	rm -rf build

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
