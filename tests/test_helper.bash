# Loaded by every Bats file: the assertion libraries, the paths of the built
# programs, and helpers that bound every wait.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

# BIN (exercises), TESTBIN (common/ test programs) and TSAN_BIN (exercises
# built with ThreadSanitizer) come from the Makefile; these defaults let a
# single file run by hand after `make`.
: "${BIN:=$BATS_TEST_DIRNAME/../build/release/bin}"
: "${TESTBIN:=$BATS_TEST_DIRNAME/../build/release/tests}"
: "${TSAN_BIN:=$BATS_TEST_DIRNAME/../build/thread/bin}"

# Sanitizer builds run slower: scale time limits by this factor.
TIME_SCALE=1
[ -n "${SAN:-}" ] && TIME_SCALE=4

# run_bounded SECONDS CMD...: runs CMD under `run --separate-stderr`, killed if
# it outlives SECONDS (times TIME_SCALE); status 124 then tells of a hang.
run_bounded() {
    local secs=$(($1 * TIME_SCALE))
    shift
    run --separate-stderr timeout -k 2 "$secs" "$@"
}

# wait_for_line FILE PATTERN SECONDS: polls FILE until a line matches PATTERN
# (grep -E), failing after SECONDS (times TIME_SCALE).
wait_for_line() {
    local file=$1 pattern=$2 deadline=$((SECONDS + $3 * TIME_SCALE))
    until grep -Eq -- "$pattern" "$file" 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then
            echo "timed out waiting for /$pattern/ in $file; it holds:" >&2
            cat "$file" >&2
            return 1
        fi
        sleep 0.05
    done
}

# wait_bounded PID SECONDS: waits for a background child, killing it if it
# outlives SECONDS; sets $status to its exit status (124 after a kill).
wait_bounded() {
    local pid=$1 deadline=$((SECONDS + $2 * TIME_SCALE))
    while kill -0 "$pid" 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then
            kill -9 "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null || true
            status=124
            return 0
        fi
        sleep 0.05
    done
    status=0
    wait "$pid" || status=$?
}

# assert_no_stderr: the last `run --separate-stderr` wrote nothing on stderr.
assert_no_stderr() {
    if [ -n "$stderr" ]; then
        echo "expected no stderr, got:" >&2
        echo "$stderr" >&2
        return 1
    fi
}

# assert_bad_flags PROG ARGS...: each ARGS (one string, split on spaces) is a
# bad command line for exercise PROG: it must exit 2 with nothing on stdout and
# exactly one line on stderr, naming the program.
assert_bad_flags() {
    local prog=$1 args
    shift
    for args in "$@"; do
        # shellcheck disable=SC2086 # split on purpose: one string, several words
        run_bounded 5 "$BIN/$prog" $args
        if [ "$status" -ne 2 ] || [ -n "$output" ] || [ "${#stderr_lines[@]}" -ne 1 ] ||
            [[ "$stderr" != "$prog: "* ]]; then
            echo "$prog $args: status $status, stdout '$output', stderr '$stderr'" >&2
            return 1
        fi
    done
}

# assert_help PROG: -h and --help print the usage on stdout and exit 0.
assert_help() {
    local flag
    for flag in -h --help; do
        run_bounded 5 "$BIN/$1" "$flag"
        assert_success
        assert_no_stderr
        assert_line --index 0 --partial "usage: $1 "
    done
}
