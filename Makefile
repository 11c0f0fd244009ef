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
LDLIBS := -pthread -ldl

# A lesson is a directory with a main.c: the path (NN-name/) and the lab
# (patterns/NAME/). Its Bats file is tests/LESSON.bats; its Go twin LESSON/main.go.
PATH_LESSONS := $(sort $(patsubst %/main.c,%,$(wildcard [0-9][0-9]-*/main.c)))
LAB_LESSONS := $(sort $(patsubst %/main.c,%,$(wildcard patterns/*/main.c)))
EXERCISES := $(PATH_LESSONS) $(LAB_LESSONS)
COMMON_SRC := $(wildcard common/*.c common/internal/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libcommon.a
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
EX_BIN := $(EXERCISES:%=$(BUILD)/bin/%)

export BIN := $(CURDIR)/$(BUILD)/bin
export TESTBIN := $(CURDIR)/$(BUILD)/tests
TSAN_BUILD := build/$(if $(filter cc,$(CCNAME)),,$(CCNAME)-)thread
export TSAN_BIN := $(CURDIR)/$(TSAN_BUILD)/bin
export SAN

# Bats runs tests side by side (GNU parallel, which make deps installs): most
# wait on a timer or a child, so one more job than cores keeps both busy.
# BATS_JOBS=1 runs them one at a time.
NPROC := $(shell nproc)
BATS_JOBS ?= $(shell echo $$(($(NPROC) + 1)))
BATS_FLAGS ?=
BATS_RUN = bats $(if $(filter-out 1,$(BATS_JOBS)),--jobs $(BATS_JOBS)) $(BATS_FLAGS)

# The Go twins: LESSON/main.go, one module (go.mod) for the whole tree, built
# from the file (go refuses a package directory that holds C files without cgo),
# offline (standard library only) with the cache under build/, so that
# neither HOME nor the network is needed. build/go/bin holds the plain
# builds, build/go/race the ones with Go's race detector (what TSan is to C).
GOTOOL ?= go
# What the twins share is in packages of the module, each with its own go
# test: common/goflag (flag.h's additions), common/gocause (Go 1.21's
# context causes, which Go 1.19 lacks) and common/gostream (stream.h).
GO_PKG_SRC := $(filter-out %_test.go,$(wildcard common/goflag/*.go common/gocause/*.go common/gostream/*.go))
GO_LESSONS := $(patsubst %/main.go,%,$(wildcard [0-9][0-9]-*/main.go patterns/*/main.go))
GOENV := GOPROXY=off GOFLAGS=-mod=mod GOCACHE=$(CURDIR)/build/go/cache GOPATH=$(CURDIR)/build/go/path
GO_BIN := $(GO_LESSONS:%=build/go/bin/%)
GO_RACE_BIN := $(GO_LESSONS:%=build/go/race/%)
HAVE_GO := $(shell command -v $(GOTOOL) >/dev/null 2>&1 && echo yes)

# What the Bats suite runs: every lesson's file and common/'s; the Go twins
# run the lessons' files again, each test name prefixed with [go].
LESSON_BATS := $(wildcard tests/[0-9][0-9]-*.bats tests/patterns/*.bats)
GO_TEST_ENV = IMPL=go BIN=$(CURDIR)/build/go/bin TSAN_BIN=$(CURDIR)/build/go/race \
	BATS_TEST_NAME_PREFIX="[go] " SAN=

.PHONY: all exercises tests help run/% test test/% practice/% try/% go-twins go-unit check stress valgrind \
	deps clean format format-check bench
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
	@echo "  make run/05-worker-pool    build and run one lesson; flags with ARGS=\"...\"; GO=1: its Go twin"
	@echo "  make test                  install the test tools if missing, run the Bats suite (C and Go)"
	@echo "  make test/05-worker-pool   the tests of one lesson, on the C and on the Go"
	@echo "  make go-unit               the Go packages' own tests (common/goflag, gocause, gostream)"
	@echo "  make practice/05-worker-pool  write 05-worker-pool/practice.c: main.c with its key lines to fill in"
	@echo "  make try/05-worker-pool    build your practice.c and run the lesson's tests on it"
	@echo "  make check                 formatting, the suite under ThreadSanitizer, then ASan+UBSan,"
	@echo "                             valgrind on the test programs, and a clang -Werror build"
	@echo "  make stress                the slow stress tests (tagged stress)"
	@echo "  make valgrind              the common/ test programs under valgrind"
	@echo "  make bench                 C against Go and crossbeam (Rust), side by side (see tests/bench/README.md)"
	@echo "  make format                apply .clang-format to every C file"
	@echo "  make format-check          fail where a C file strays from .clang-format (part of check)"
	@echo "  make clean                 remove build/"
	@echo ""
	@echo "  Variables: CC=clang  SAN=thread|address  ARGS=\"...\"  GO=1  CFLAGS=\"...\""
	@echo "  The path: $(PATH_LESSONS)"
	@echo "  The lab:  $(LAB_LESSONS)"

ifeq ($(GO),1)
run/%: build/go/bin/%
	@$< $(ARGS)
else
run/%: $(BUILD)/bin/%
	@$< $(ARGS)
endif

go-twins: $(GO_BIN) $(GO_RACE_BIN)

# The Go packages' own tests (common/goflag; common/gocause and
# common/gostream under the race detector: they are goroutines and locks).
go-unit:
	$(GOENV) $(GOTOOL) test ./common/goflag
	$(GOENV) $(GOTOOL) test -race ./common/gocause ./common/gostream

build/go/bin/%: %/main.go go.mod $(GO_PKG_SRC)
	@mkdir -p $(@D)
	$(GOENV) $(GOTOOL) build -o $@ ./$*/main.go

build/go/race/%: %/main.go go.mod $(GO_PKG_SRC)
	@mkdir -p $(@D)
	$(GOENV) $(GOTOOL) build -race -o $@ ./$*/main.go

# Every object depends on the flags it was built with: a change of CFLAGS
# (or of SAN's flags) rebuilds. The stamp changes only when the flags do.
FLAGS_STAMP := $(BUILD)/cflags
$(shell mkdir -p $(BUILD) && echo '$(ALL_CFLAGS)' | cmp -s - $(FLAGS_STAMP) || \
	echo '$(ALL_CFLAGS)' >$(FLAGS_STAMP))

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
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

# Everything is built first, one compiler per core; then the C suite; then,
# where Go is installed (make deps installs it), the lessons' files again on
# the Go twins. Under a sanitizer (make check) only the C runs again: the Go
# binaries would not change.
test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@$(MAKE) --no-print-directory -j$(NPROC) SAN=thread exercises >/dev/null
ifeq ($(HAVE_GO),yes)
	@if [ -z "$(SAN)" ]; then $(MAKE) --no-print-directory -j$(NPROC) go-twins && \
		$(MAKE) --no-print-directory go-unit; fi
endif
	$(BATS_RUN) -r --filter-tags '!stress' tests/
ifeq ($(HAVE_GO),yes)
	@if [ -z "$(SAN)" ]; then $(GO_TEST_ENV) $(BATS_RUN) --filter-tags '!stress' $(LESSON_BATS); fi
endif

# One lesson's tests: make test/05-worker-pool, make test/patterns/tee. The
# test programs too: a lab lesson may have one of its own (test_rate_limit).
test/%: deps $(BUILD)/bin/% $(LIB) tests
	@$(MAKE) --no-print-directory SAN=thread $(TSAN_BUILD)/bin/$* >/dev/null
	$(BATS_RUN) --filter-tags '!stress' tests/$*.bats
ifeq ($(HAVE_GO),yes)
	@if [ -z "$(SAN)" ] && [ -f $*/main.go ]; then \
		$(MAKE) --no-print-directory build/go/bin/$* build/go/race/$* && \
		$(GO_TEST_ENV) $(BATS_RUN) --filter-tags '!stress' tests/$*.bats; fi
endif

# Practice: main.c with the lines between its practice markers replaced by a
# TODO and a hint (tests/practice.sh); written once, never overwritten.
practice/%: %/main.c
	@if [ -e $*/practice.c ]; then echo "$*/practice.c exists: edit it, then make try/$*"; \
	else tests/practice.sh make $< >$*/practice.c && \
		echo "wrote $*/practice.c: fill in each TODO, then make try/$*"; fi

# Builds practice.c (warnings stay warnings: an unfinished file may have an
# unused function) and runs the lesson's tests on it.
PRACTICE_CFLAGS = $(filter-out -Werror,$(ALL_CFLAGS))
try/%: $(LIB) deps
	@[ -f $*/practice.c ] || { echo "no $*/practice.c: make practice/$* writes it"; exit 1; }
	@$(MAKE) --no-print-directory SAN=thread $(TSAN_BUILD)/libcommon.a >/dev/null
	@mkdir -p $(BUILD)/practice/$(*D) $(TSAN_BUILD)/practice/$(*D)
	$(CC) $(PRACTICE_CFLAGS) $*/practice.c $(LIB) -o $(BUILD)/practice/$* $(LDLIBS)
	@$(MAKE) --no-print-directory SAN=thread practice-tsan/$*
	BIN=$(CURDIR)/$(BUILD)/practice TSAN_BIN=$(CURDIR)/$(TSAN_BUILD)/practice \
		$(BATS_RUN) --filter-tags '!stress' tests/$*.bats

practice-tsan/%:
	$(CC) $(PRACTICE_CFLAGS) $*/practice.c $(LIB) -o $(BUILD)/practice/$* $(LDLIBS)

stress: deps all
	bats $(BATS_FLAGS) -r --filter-tags stress tests/

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

# What tests/*.bats need to build a practice file as `make try` does.
export PRACTICE_CC = $(CC) $(PRACTICE_CFLAGS)
export LIBCOMMON := $(CURDIR)/$(LIB)
export LDLIBS

-include $(COMMON_OBJ:.o=.d) $(EX_BIN:$(BUILD)/bin/%=$(BUILD)/obj/%/main.d) $(TEST_BIN:$(BUILD)/tests/%=$(BUILD)/obj/tests/%.d)
-include tests/bench/bench.mk
