#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: Bats with bats-support
# and bats-assert, GNU parallel (Bats runs tests side by side with it), Go (the
# lessons' twins run the same tests), tmux (a test drives a lesson in a real
# terminal), and valgrind, clang and clang-format (for `make check`). On Debian
# or Ubuntu it uses apt-get (as root, or through sudo); elsewhere it says what
# to install.
set -eu

need=()
command -v bats >/dev/null 2>&1 || need+=(bats)
have_lib() {
    local d
    for d in /usr/lib/bats /usr/local/lib/bats /opt/homebrew/lib "${BATS_LIB_PATH:-/nonexistent}"; do
        [ -f "$d/$1/load.bash" ] && return 0
    done
    return 1
}
have_lib bats-support || need+=(bats-support)
have_lib bats-assert || need+=(bats-assert)
command -v parallel >/dev/null 2>&1 || need+=(parallel)
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v clang-format >/dev/null 2>&1 || need+=(clang-format)
[ ${#need[@]} -eq 0 ] && exit 0

echo "tests need: ${need[*]}; installing them" >&2
if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "error: not root and no sudo: run 'apt-get install ${need[*]}' as root" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "${need[@]}" >/dev/null
    exit 0
fi
echo "error: no apt-get here: install ${need[*]} with your package manager" >&2
echo "       (bats-core 1.5 or newer, with bats-support and bats-assert on BATS_LIB_PATH)" >&2
exit 1
