# `make bench`: common/ against Go's own channels and crossbeam-channel's, side by side; see
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

# The crossbeam half builds with Debian's cargo and rustc (apt: cargo, rustc,
# librust-crossbeam-channel-dev), named by path: rustup may have put its own
# first on PATH, and a fresh machine gets Debian's from apt (deps.sh). Offline,
# from the crates in /usr/share/cargo/registry (tests/bench/crossbeam/.cargo/
# config.toml: cargo reads it from the directory it runs in), with its home
# and target directory under build/: it writes nothing else outside build/
# but tests/bench/crossbeam/Cargo.lock.
BENCH_CARGO ?= /usr/bin/cargo
BENCH_RUSTC ?= /usr/bin/rustc
BENCH_CB_DIR := tests/bench/crossbeam
# Cargo.lock is cargo's output, not a source: it records the versions Debian
# ships on this machine, and is not committed (a lock of bookworm's versions
# would fail the offline build on a release that ships others).
BENCH_CB_SRC := $(wildcard $(BENCH_CB_DIR)/src/*.rs) $(BENCH_CB_DIR)/Cargo.toml \
	$(BENCH_CB_DIR)/.cargo/config.toml
BENCH_CARGOENV := RUSTC=$(BENCH_RUSTC) CARGO_HOME=$(CURDIR)/$(BENCH_OUT)/cargo-home \
	CARGO_TARGET_DIR=$(CURDIR)/$(BENCH_OUT)/cargo-target

# Each half that builds joins the run; one that cannot is left out, and the
# driver is told so (it prints which ran).
bench:
	@CARGO=$(BENCH_CARGO) RUSTC=$(BENCH_RUSTC) sh tests/bench/deps.sh
	@$(MAKE) --no-print-directory SAN= CC=cc $(BENCH_REL)/bench_c
	@set --; \
	if command -v go >/dev/null 2>&1 && $(MAKE) --no-print-directory SAN= CC=cc $(BENCH_REL)/bench_go; then \
		set -- "$$@" --go $(BENCH_REL)/bench_go; \
	else \
		echo "bench: no Go toolchain, or the Go half did not build: running without Go"; \
	fi; \
	if [ -x $(BENCH_CARGO) ] && [ -x $(BENCH_RUSTC) ] && \
		$(MAKE) --no-print-directory SAN= CC=cc $(BENCH_REL)/bench_crossbeam; then \
		set -- "$$@" --crossbeam $(BENCH_REL)/bench_crossbeam --rustc $(BENCH_RUSTC); \
	else \
		echo "bench: no $(BENCH_CARGO) or $(BENCH_RUSTC), or the crossbeam half did not build: running without crossbeam"; \
	fi; \
	$(BENCH_DRIVER) "$$@"

$(BUILD)/bench/bench_c: $(BUILD)/obj/tests/bench/bench.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/bench/bench_go: $(BENCH_GO_SRC)
	@mkdir -p $(@D)
	cd tests/bench/go && $(BENCH_GOENV) go build -o $(CURDIR)/$@ .

$(BUILD)/bench/bench_crossbeam: $(BENCH_CB_SRC)
	@mkdir -p $(@D)
	cd $(BENCH_CB_DIR) && $(BENCH_CARGOENV) $(BENCH_CARGO) build --offline --release --quiet
	cp $(BENCH_OUT)/cargo-target/release/bench_crossbeam $@

-include $(BUILD)/obj/tests/bench/bench.d
