# Go's concurrency patterns in C. `make help` lists the targets.
#
# Variants build out of tree, one folder each:
#   build/release   the default (-O2 -g)
#   build/thread    SAN=thread   ThreadSanitizer
#   build/address   SAN=address  AddressSanitizer with UBSan
# A compiler other than cc gets its own folders too (CC=clang -> build/clang-release).

CC ?= cc
SAN ?=
ARGS ?=

VARIANT := $(if $(SAN),$(SAN),release)
CCNAME := $(notdir $(firstword $(CC)))
BUILD := build/$(if $(filter cc,$(CCNAME)),,$(CCNAME)-)$(VARIANT)

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g -Wall -Wextra -Werror -pthread -I.
OPT := -O2
ifeq ($(SAN),thread)
  SANFLAGS := -fsanitize=thread
  OPT := -O1
else ifeq ($(SAN),address)
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  OPT := -O1
else ifneq ($(SAN),)
  $(error SAN must be thread or address, not '$(SAN)')
endif
CFLAGS ?=
ALL_CFLAGS := $(CFLAGS_BASE) $(OPT) $(SANFLAGS) $(CFLAGS)
LDLIBS := -pthread

EXERCISES := $(sort $(patsubst %/main.c,%,$(wildcard [0-9][0-9]-*/main.c)))
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libcommon.a
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
EX_BIN := $(EXERCISES:%=$(BUILD)/bin/%)

export BIN := $(CURDIR)/$(BUILD)/bin
export TESTBIN := $(CURDIR)/$(BUILD)/tests
export TSAN_BIN := $(CURDIR)/build/$(if $(filter cc,$(CCNAME)),,$(CCNAME)-)thread/bin
export SAN

BATS_FLAGS ?=

.PHONY: all exercises tests help run/% test check stress valgrind deps clean format format-check bench
.DEFAULT_GOAL := all
# Keep the objects: they are intermediate files of the pattern rules, which
# make would otherwise delete after every build (and rebuild every time).
.SECONDARY:

all: $(LIB) exercises tests

exercises: $(EX_BIN)
tests: $(TEST_BIN)

help:
	@echo "Go's concurrency patterns in C"
	@echo ""
	@echo "  make                       build every exercise and test program ($(BUILD))"
	@echo "  make run/05-worker-pool    build and run one exercise; flags with ARGS=\"...\""
	@echo "  make test                  install the test tools if missing, run the Bats suite"
	@echo "  make check                 formatting, the suite under ThreadSanitizer, then ASan+UBSan,"
	@echo "                             valgrind on the test programs, and a clang -Werror build"
	@echo "  make stress                the slow stress tests (tagged stress)"
	@echo "  make valgrind              the common/ test programs under valgrind"
	@echo "  make bench                 C against Go, side by side (see tests/bench/README.md)"
	@echo "  make format                apply .clang-format to every C file"
	@echo "  make format-check          fail where a C file strays from .clang-format (part of check)"
	@echo "  make clean                 remove build/"
	@echo ""
	@echo "  Variables: CC=clang  SAN=thread|address  ARGS=\"...\""
	@echo "  Exercises: $(EXERCISES)"

run/%: $(BUILD)/bin/%
	@$< $(ARGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/%/main.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

# The suite uses the release build, plus the ThreadSanitizer build of the
# exercises for the tests that show a race being caught.
deps:
	@tests/install-deps.sh

test: deps all
	@$(MAKE) --no-print-directory SAN=thread exercises >/dev/null
	bats $(BATS_FLAGS) --filter-tags '!stress' tests/

stress: deps all
	bats $(BATS_FLAGS) --filter-tags stress tests/

valgrind: deps tests
	tests/valgrind.sh $(TEST_BIN)

check: deps format-check
	$(MAKE) --no-print-directory SAN=thread test
	$(MAKE) --no-print-directory SAN=address test
	$(MAKE) --no-print-directory valgrind
	$(MAKE) --no-print-directory CC=clang all

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Fails, naming the file and line, where a C file strays from .clang-format.
format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(COMMON_OBJ:.o=.d) $(EX_BIN:$(BUILD)/bin/%=$(BUILD)/obj/%/main.d) $(TEST_BIN:$(BUILD)/tests/%=$(BUILD)/obj/tests/%.d)
-include tests/bench/bench.mk
