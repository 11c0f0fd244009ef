#!/bin/sh
# Installs what `make bench` needs beyond the C toolchain, when it is missing:
# Debian's golang-go (the Go half) and gnuplot-nox (the chart). Root runs
# apt-get itself, anyone else goes through sudo. When neither works it says so
# and returns success all the same: run.py then runs the C half alone, or
# draws no chart, and tells which.
missing=""
command -v go >/dev/null 2>&1 || missing="$missing golang-go"
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
