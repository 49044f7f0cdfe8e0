# weir - one flat GNU Makefile. `make help` lists the targets.
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
VARIANT ?= release

PKGS := argtable2 libzstd libnats
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -largtable2 -lzstd -lnats)

WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual -Wstrict-prototypes \
        -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wundef -Wvla -Wconversion \
        -Wno-sign-conversion
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -pthread $(WARN) -MMD -MP $(PKG_CFLAGS)

ifeq ($(VARIANT),release)
  OPT := -O2 -g
else ifeq ($(VARIANT),check)
  OPT := -O2 -g -Werror
else ifeq ($(VARIANT),asan)
  OPT := -O1 -g -Werror -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(VARIANT),tsan)
  OPT := -O1 -g -Werror -fsanitize=thread -fno-omit-frame-pointer
else
  $(error unknown VARIANT $(VARIANT): release, check, asan or tsan)
endif

CFLAGS ?=
LDFLAGS ?=
ALL_CFLAGS := $(BASE_CFLAGS) $(OPT) $(CFLAGS)
LDLIBS := $(PKG_LIBS) -lm -pthread

B := build/$(VARIANT)
# The command line (the only user of argtable2; flags.def is its table),
# linked into the unit tests too; main.c alone is not. Every other source
# file is the library.
CLI_SRC := $(sort $(wildcard src/cli*.c))
MAIN_SRC := src/main.c
LIB_SRC := $(filter-out $(CLI_SRC) $(MAIN_SRC),$(sort $(wildcard src/*.c)))
LIB_OBJ := $(LIB_SRC:src/%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:src/%.c=$(B)/%.o)
MAIN_OBJ := $(MAIN_SRC:src/%.c=$(B)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
BIN := $(if $(filter release,$(VARIANT)),weir,$(B)/weir)

.PHONY: all check check-quick check-readme check-unit check-cli check-asan check-tsan check-sanitize bench plots demo deps \
        install uninstall clean format lint help
.PHONY: fuzz fuzz-smoke
.PHONY: check-props

all: $(BIN)

$(BIN): $(LIB_OBJ) $(CLI_OBJ) $(MAIN_OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(LIB_OBJ) $(CLI_OBJ) tests/unit/tap.h tests/unit/mkbatch.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(CLI_OBJ) $(LDLIBS)

# test_fault makes weir's allocations fail on demand.
$(B)/tests/test_fault: LDFLAGS += -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc

# The LD_PRELOAD fault shim of tests/cli/faults.bats, never sanitized (a
# sanitizer runtime of its own would clash with weir's).
SHIM := $(B)/failshim.so
$(SHIM): tests/fault/failshim.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g $(WARN) $(filter -Werror,$(OPT)) -shared -fPIC -o $@ $< -ldl -pthread

# natstool, the JetStream client of the NATS tests (tests/nats/README.md);
# never sanitized either: libnats's own threads are not instrumented.
NATSTOOL := $(B)/natstool
$(NATSTOOL): tests/nats/natstool.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) $(filter -Werror,$(OPT)) -o $@ $< \
	  $(shell pkg-config --cflags --libs libnats) -pthread

# `make check`: the -Werror build, unit tests, CLI tests and the README's
# examples against it, then the random configurations. `make check-quick`
# stops before those.
check: check-quick
	PROPS_N=200 NATS_PROPS_N=40 $(MAKE) --no-print-directory VARIANT=check check-props

check-quick: deps
	$(MAKE) --no-print-directory VARIANT=check check-unit check-cli check-readme

check-unit: $(UNIT_BIN)
	prove -e '' $(UNIT_BIN)

check-cli: $(BIN) $(SHIM) $(NATSTOOL)
	WEIR=$(abspath $(BIN)) bats tests/cli

# Every `$ ` session of the README, run as pasted, twice (tests/doc/readme.py).
check-readme: $(BIN)
	WEIR=$(abspath $(BIN)) python3 tests/doc/readme.py README.md

# Seeded random configurations checked against a model (tests/props/README.md):
# PROPS_N (200), PROPS_SEED (printed; PROPS_SEED=S PROPS_N=1 replays one), PROPS_J;
# then NATS_PROPS_N (20) of them reading a JetStream consumer on a private
# nats-server (nats_props.py; its own PROPS_SEED is printed too).
NATS_PROPS_N ?= 20
check-props: $(BIN) $(NATSTOOL)
	WEIR=$(abspath $(BIN)) python3 tests/props/props.py
	WEIR=$(abspath $(BIN)) NATSTOOL=$(abspath $(NATSTOOL)) PROPS_N=$(NATS_PROPS_N) \
	  python3 tests/props/nats_props.py

# AddressSanitizer + UndefinedBehaviorSanitizer over the whole suite, and 40
# random configurations (10 with NATS).
check-asan: deps
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 PROPS_N=40 NATS_PROPS_N=10 \
	  $(MAKE) --no-print-directory VARIANT=asan CC=clang check-unit check-cli check-props

# ThreadSanitizer over the whole suite (setarch -R: TSan needs a narrow mmap layout).
check-tsan: deps
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp \
	  setarch -R $(MAKE) --no-print-directory VARIANT=tsan CC=clang check-unit check-cli

check-sanitize: check-asan check-tsan

# libFuzzer targets over the parsers of outside bytes (tests/fuzz/README.md),
# linked with the library built for them in build/fuzz. `make fuzz` runs
# each for FUZZ_SECONDS on a copy of its seed corpus; fails on a crash.
FUZZ_SECONDS ?= 60
FZ := build/fuzz
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all -Isrc
FUZZ_OBJ := $(LIB_SRC:src/%.c=$(FZ)/%.o) $(CLI_SRC:src/%.c=$(FZ)/%.o)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(FZ)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_OBJ): $(FZ)/%.o: src/%.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

$(FUZZ_BIN): $(FZ)/%: tests/fuzz/%.c $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

fuzz: $(FUZZ_BIN)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-smoke:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=20

bench: weir build/release/natstool
	bench/run.sh

# `make plots`: weir under overload, one row per policy, into docs/policies.svg (gnuplot).
plots: weir
	scripts/plots.sh

demo: deps weir
	./demo.sh

deps:
	@./scripts/deps.sh

install: weir
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 weir $(DESTDIR)$(PREFIX)/bin/weir
	install -m 644 man/weir.1 $(DESTDIR)$(PREFIX)/share/man/man1/weir.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/weir $(DESTDIR)$(PREFIX)/share/man/man1/weir.1

format:
	clang-format -i src/*.c src/*.h tests/unit/*.c tests/unit/*.h

# `make lint`: static checks, the format, no function over 80 lines, the man page.
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --suppress=missingIncludeSystem -D_GNU_SOURCE src
	clang-format --dry-run -Werror src/*.c src/*.h tests/unit/*.c tests/unit/*.h
	scripts/fnlen.sh 80
	mandoc -T lint -W warning man/weir.1

clean:
	rm -rf build weir

help:
	@echo "targets: all check check-quick check-readme check-asan check-tsan check-sanitize bench plots demo deps install uninstall clean format lint fuzz fuzz-smoke check-props"

-include $(wildcard build/*/*.d build/*/tests/*.d)
