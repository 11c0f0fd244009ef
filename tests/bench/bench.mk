# `make bench`: common/ against Go's own channels, side by side; see
# tests/bench/README.md. Included by the Makefile, whose variables and pattern
# rules it reuses.
#
# The bench always measures the release build: its recipe calls make again
# with SAN and CC reset, whatever this make was given, so that
# `make SAN=thread bench` still times build/release/libcommon.a.
# BENCH_ARGS go to the driver, e.g. BENCH_ARGS="--only pingpong,handoff --runs 3".

BENCH_ARGS ?=
BENCH_OUT := build/bench
BENCH_REL := build/release/bench
BENCH_DRIVER := python3 tests/bench/run.py --c $(BENCH_REL)/bench_c --out $(BENCH_OUT) $(BENCH_ARGS)
BENCH_GO_SRC := $(wildcard tests/bench/go/*.go) tests/bench/go/go.mod
# Go builds offline (GOPROXY=off: the program uses the standard library only)
# and keeps its cache under build/, so it needs neither HOME nor the network.
BENCH_GOENV := GOPROXY=off GOWORK=off GOTOOLCHAIN=local GOCACHE=$(CURDIR)/$(BENCH_OUT)/go-cache \
	GOPATH=$(CURDIR)/$(BENCH_OUT)/go-path

bench:
	@sh tests/bench/deps.sh
	@$(MAKE) --no-print-directory SAN= CC=cc $(BENCH_REL)/bench_c
	@if command -v go >/dev/null 2>&1 && $(MAKE) --no-print-directory SAN= CC=cc $(BENCH_REL)/bench_go; then \
		$(BENCH_DRIVER) --go $(BENCH_REL)/bench_go; \
	else \
		echo "bench: no Go toolchain, or the Go half did not build: running the C half alone"; \
		$(BENCH_DRIVER); \
	fi

$(BUILD)/bench/bench_c: $(BUILD)/obj/tests/bench/bench.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/bench/bench_go: $(BENCH_GO_SRC)
	@mkdir -p $(@D)
	cd tests/bench/go && $(BENCH_GOENV) go build -o $(CURDIR)/$@ .

-include $(BUILD)/obj/tests/bench/bench.d
