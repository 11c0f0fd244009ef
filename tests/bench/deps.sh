#!/bin/sh
# Installs what `make bench` needs beyond the C toolchain, when it is missing:
# Debian's golang-go (the Go half), cargo, rustc and
# librust-crossbeam-channel-dev (the crossbeam half: the crate's source as a
# local cargo registry under /usr/share/cargo/registry, so that it builds
# offline) and gnuplot-nox (the chart). Root runs apt-get itself, anyone else
# goes through sudo. When neither works it says so and returns success all the
# same: `make bench` then runs without Go or without crossbeam, and run.py
# draws no chart, and each says so.
#
# CARGO and RUSTC name the Cargo and rustc the crossbeam half is built with
# (bench.mk passes them: Debian's /usr/bin/cargo and /usr/bin/rustc, not
# whatever rustup put first on PATH); CROSSBEAM_REGISTRY the directory source.
CARGO=${CARGO:-/usr/bin/cargo}
RUSTC=${RUSTC:-/usr/bin/rustc}
CROSSBEAM_REGISTRY=${CROSSBEAM_REGISTRY:-/usr/share/cargo/registry}

missing=""
command -v go >/dev/null 2>&1 || missing="$missing golang-go"
command -v "$CARGO" >/dev/null 2>&1 || missing="$missing cargo"
command -v "$RUSTC" >/dev/null 2>&1 || missing="$missing rustc"
ls -d "$CROSSBEAM_REGISTRY"/crossbeam-channel-0.5.* >/dev/null 2>&1 ||
    missing="$missing librust-crossbeam-channel-dev"
command -v gnuplot >/dev/null 2>&1 || missing="$missing gnuplot-nox"
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "bench: missing:$missing (no apt-get here: install them by hand)" >&2
    exit 0
fi
as_root=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "bench: missing:$missing (not root, no sudo: apt-get install them as root)" >&2
        exit 0
    fi
    as_root=sudo
fi
echo "bench: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# $missing is a list of package names: split on purpose.
# shellcheck disable=SC2086
if ! { $as_root apt-get update -qq && $as_root apt-get install -y -qq $missing >/dev/null; }; then
    echo "bench: could not install$missing: carrying on without" >&2
fi
exit 0
