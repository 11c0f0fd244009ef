# Loaded by every Bats file: the assertion libraries, the paths of the built
# programs, and helpers that bound every wait.
bats_require_minimum_version 1.5.0
# Each test runs in a process of its own that loads this file again, and a
# library's load.bash forks a dirname for each file it sources: 16 forks, some
# 170 ms a test on a 2-core VM. load_bats_lib sources the library's files
# itself (load.bash sources nothing else), and falls back to
# bats_load_library for a library laid out otherwise.
load_bats_lib() {
    local dir f dirs
    IFS=: read -r -a dirs <<<"$BATS_LIB_PATH"
    for dir in "${dirs[@]}"; do
        [ -f "$dir/$1/load.bash" ] && [ -d "$dir/$1/src" ] || continue
        for f in "$dir/$1"/src/*.bash; do
            # shellcheck disable=SC1090
            source "$f"
        done
        return 0
    done
    bats_load_library "$1"
}
load_bats_lib bats-support
load_bats_lib bats-assert

# BIN (lessons), TESTBIN (common/ test programs) and TSAN_BIN (lessons built
# with ThreadSanitizer) come from the Makefile; these defaults let a single
# file run by hand after `make`. A lesson's file runs twice in `make test`:
# IMPL=c on the C, then IMPL=go with BIN on the Go twins (build/go/bin) and
# TSAN_BIN on their race-detector builds (build/go/race).
TOP=${BATS_TEST_DIRNAME%/tests*} # the checkout: tests/ and tests/patterns/ sit in it
: "${BIN:=$TOP/build/release/bin}"
: "${TESTBIN:=$TOP/build/release/tests}"
: "${TSAN_BIN:=$TOP/build/thread/bin}"
: "${IMPL:=c}"

# c_only REASON: skips the test on the Go twin (a C detail, such as valgrind
# or a sanitizer's own report). Say why.
c_only() {
    [ "$IMPL" = c ] || skip "C only: $1"
}

# race_detected: the last run was stopped by the race detector of its
# implementation: ThreadSanitizer (exit 66, "WARNING: ThreadSanitizer: data
# race") or Go's -race (exit 66, "WARNING: DATA RACE").
race_detected() {
    [ "$status" -eq 66 ] || { echo "status $status, not 66 (a race report)" >&2; return 1; }
    [[ "$stderr" == *"WARNING: ThreadSanitizer: data race"* || "$stderr" == *"WARNING: DATA RACE"* ]] ||
        { echo "no race report on stderr: $stderr" >&2; return 1; }
}

# deadlock_reported: the last run ended with Go's deadlock report and status 2
# (common/'s, or Go's own runtime's).
deadlock_reported() {
    [ "$status" -eq 2 ] || { echo "status $status, not 2" >&2; return 1; }
    [[ "$stderr" == *"fatal error: all goroutines are asleep - deadlock!"* ]] ||
        { echo "no deadlock report on stderr: $stderr" >&2; return 1; }
}

# ThreadSanitizer sleeps a second before a program exits (atexit_sleep_ms)
# whenever another thread exists, which in common/ is always (the timer
# thread, idle goroutine threads), in case one of them is still racing. A
# lesson's goroutines have returned by then (the leak checks prove it), and a
# report under way is still waited for: no sleep, a second saved on each of
# the suite's hundreds of runs under TSan.
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}atexit_sleep_ms=0"

# Sanitizer builds run slower: scale time limits by this factor.
TIME_SCALE=1
[ -n "${SAN:-}" ] && TIME_SCALE=4

# run_bounded SECONDS CMD...: runs CMD as `run --separate-stderr` does, killed
# if it outlives SECONDS (times TIME_SCALE); status 124 then tells of a hang.
# It sets what run sets (status; output and lines from stdout; stderr and
# stderr_lines; trailing newlines dropped, lines without the empty ones) with
# no fork but timeout's: run forks four more times, and a fork costs some 9 ms
# of CPU on a 2-core VM, on each of the suite's thousands of runs.
run_bounded() {
    local secs=$(($1 * TIME_SCALE)) dir=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR} # setup_file has no test dir
    local out=$dir/run_bounded.out err=$dir/run_bounded.err
    shift
    timeout -k 2 "$secs" "$@" >"$out" 2>"$err" && status=0 || status=$?
    output='' stderr=''
    IFS= read -r -d '' output <"$out" || true
    IFS= read -r -d '' stderr <"$err" || true
    while [[ "$output" == *$'\n' ]]; do output=${output%$'\n'}; done
    while [[ "$stderr" == *$'\n' ]]; do stderr=${stderr%$'\n'}; done
    # shellcheck disable=SC2034 # read by the tests
    IFS=$'\n' read -d '' -r -a lines <<<"$output" || true
    # shellcheck disable=SC2034
    IFS=$'\n' read -d '' -r -a stderr_lines <<<"$stderr" || true
}

# duration_ns D: the Go duration D as Go prints it (1.5ms, 200.3µs, 2m1.5s) in
# nanoseconds; fails on anything else. awk: starting Python costs half a second
# here.
duration_ns() {
    awk -v d="$1" 'BEGIN {
        unit["ns"] = 1; unit["us"] = 1e3; unit["µs"] = 1e3; unit["ms"] = 1e6
        unit["s"] = 1e9; unit["m"] = 60e9; unit["h"] = 3600e9
        total = 0; s = d
        if (s == "") exit 1
        while (match(s, /^[0-9]+(\.[0-9]+)?/)) {
            n = substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1)
            if (!match(s, /^(ns|us|µs|ms|s|m|h)/)) exit 1
            total += n * unit[substr(s, 1, RLENGTH)]; s = substr(s, RLENGTH + 1)
        }
        if (s != "") exit 1
        printf "%.0f\n", total
    }'
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
# bad command line for lesson PROG. As Go's flag package does (common/flag.h):
# status 2, nothing on stdout, and on stderr one line saying what is wrong,
# then "Usage of PROG:" and the flags.
assert_bad_flags() {
    local prog=$1 args
    shift
    for args in "$@"; do
        # shellcheck disable=SC2086 # split on purpose: one string, several words
        run_bounded 5 "$BIN/$prog" $args
        if [ "$status" -ne 2 ] || [ -n "$output" ] || [ "${#stderr_lines[@]}" -lt 3 ] ||
            [ -z "${stderr_lines[0]}" ] || [[ "${stderr_lines[1]}" != "Usage of "*"${prog##*/}:" ]]; then
            echo "$prog $args: status $status, stdout '$output', stderr '$stderr'" >&2
            return 1
        fi
    done
}

# assert_help PROG: -h and --help print the usage on stderr and exit 0, as Go's
# flag package does: "Usage of PROG:", then each flag.
assert_help() {
    local flag
    for flag in -h --help; do
        run_bounded 5 "$BIN/$1" "$flag"
        assert_success
        assert_equal "$output" ""
        [[ "${stderr_lines[0]}" == "Usage of "*"${1##*/}:" ]] ||
            { echo "$1 $flag: stderr '$stderr'" >&2; return 1; }
        [[ "${stderr_lines[1]}" == "  -"* ]] || { echo "$1 $flag: no flags listed: '$stderr'" >&2; return 1; }
    done
}
