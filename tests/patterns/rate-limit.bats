#!/usr/bin/env bats
# patterns/rate-limit: the same burst through five limiters; every request
# goes through exactly once, every limiter holds its limit, the measured rate
# is the configured one; --break (a limiter per request) blows every limit,
# and the program's own check says so. The limiters themselves are checked
# exactly, on a fake clock, by tests/test_rate_limit.c.
load ../test_helper
load ../common_helper

LIMITERS="ticker bursty token leaky window"

# The report line of limiter $1 in the last run's output.
lane() {
    grep "^$1: " <<<"$output"
}

# timeline_shows NAME N: the timeline of limiter NAME shows N requests: its
# digits add up to N, where a '+' stands for ten or more.
timeline_shows() {
    local strip sum=0 plus=0 i
    strip=$(sed -n "s/^$1  *\([.0-9+]*\)$/\1/p" <<<"$output")
    for ((i = 0; i < ${#strip}; i++)); do
        case ${strip:i:1} in
        .) ;;
        +) plus=$((plus + 1)) ;;
        *) sum=$((sum + ${strip:i:1})) ;;
        esac
    done
    if [ "$plus" -eq 0 ]; then
        [ "$sum" -eq "$2" ] || { echo "$1: the timeline shows $sum, not $2: $strip" >&2; return 1; }
    else
        [ $((sum + 10 * plus)) -le "$2" ] || { echo "$1: the timeline shows more than $2: $strip" >&2; return 1; }
    fi
}

# last_column NAME: the column (from 0) of the last request in limiter NAME's timeline.
last_column() {
    local strip
    strip=$(sed -n "s/^$1  *\([.0-9+]*\)$/\1/p" <<<"$output")
    strip=${strip%"${strip##*[0-9+]}"} # the trailing dots off
    echo $((${#strip} - 1))
}

# every_request_once N: each limiter let N requests through, at once or
# after waiting, none gave up, and its timeline shows N.
every_request_once() {
    local l line
    for l in $LIMITERS; do
        line=$(lane "$l")
        [[ "$line" =~ ^$l:\ $1\ through,\ ([0-9]+)\ at\ once,\ then\ ([0-9]+) ]] ||
            { echo "no report for $l: $output" >&2; return 1; }
        assert_equal "$((BASH_REMATCH[1] + BASH_REMATCH[2]))" "$1"
        [[ "$line" != *"gave up"* ]] || { echo "$line" >&2; return 1; }
        timeline_shows "$l" "$1"
    done
}

# bats test_tags=practice
@test "patterns/rate-limit: default: 15 requests through each limiter, each held its limit, no goroutine left" {
    run_bounded 20 "$BIN/patterns/rate-limit"
    assert_success
    assert_no_stderr
    assert_equal "${lines[0]}" "a burst of 15 requests at once into each limiter: 5/s, burst 3"
    every_request_once 15
    local l
    for l in $LIMITERS; do
        [[ "$(lane "$l")" == *" (configured 5/s): held" ]] || { echo "$(lane "$l")"; return 1; }
    done
    assert_equal "${lines[-2]}" "main: every limiter held its limit: never more than burst + rate x elapsed"
    assert_equal "${lines[-1]}" "main: goroutines left: 1 (main)"
    # Whatever the program's own check says: the 15th request cannot go before
    # (15 - burst) x 200 ms, i.e. column (15 - burst) x 2 of 100 ms, or later.
    # Timers never fire early, so a loaded machine only moves it right.
    [ "$(last_column ticker)" -ge 30 ] && [ "$(last_column bursty)" -ge 24 ] &&
        [ "$(last_column token)" -ge 24 ] && [ "$(last_column leaky)" -ge 28 ] &&
        [ "$(last_column window)" -ge 20 ] || { echo "a lane finished too soon: $output"; return 1; }
}

@test "patterns/rate-limit: the measured rate is within 10% of the configured one (30 requests, ~6 s)" {
    run_bounded 40 "$BIN/patterns/rate-limit" -n 30
    assert_success
    every_request_once 30
    local l rate
    for l in $LIMITERS; do
        [[ "$(lane "$l")" =~ then\ [0-9]+\ at\ ([0-9.]+)/s\ \(configured\ 5/s\):\ held$ ]] ||
            { echo "$(lane "$l")"; return 1; }
        rate=${BASH_REMATCH[1]}
        awk -v r="$rate" 'BEGIN { exit !(r >= 4.5 && r <= 5.5) }' ||
            { echo "$l: $rate/s, not within 10% of 5/s"; return 1; }
    done
}

@test "patterns/rate-limit: --rate 20 --burst 5: the limits follow the flags" {
    run_bounded 20 "$BIN/patterns/rate-limit" --rate 20 --burst 5 -n 30
    assert_success
    assert_no_stderr
    every_request_once 30
    assert_line "main: every limiter held its limit: never more than burst + rate x elapsed"
    assert_line --regexp '^one column per 25ms, '
}

@test "patterns/rate-limit: --timeout 900ms: the token bucket's Wait(ctx) refuses the requests whose turn comes too late" {
    run_bounded 20 "$BIN/patterns/rate-limit" --timeout 900ms
    assert_success
    assert_no_stderr
    local line=$(lane token)
    [[ "$line" =~ ^token:\ ([0-9]+)\ through,\ .*,\ ([0-9]+)\ gave\ up\ \(rate:\ Wait\(n=1\)\ would\ exceed\ context\ deadline\):\ held$ ]] ||
        { echo "$line"; return 1; }
    assert_equal "$((BASH_REMATCH[1] + BASH_REMATCH[2]))" 15
    # The burst of 3 goes at once, and turns up to 900 ms away are kept: 200, 400, 600, 800 ms.
    [ "${BASH_REMATCH[1]}" -ge 7 ]
    [ "${BASH_REMATCH[2]}" -ge 1 ]
    [[ "$(lane ticker)" == "ticker: 15 through, "* ]] # the others have no deadline
    assert_equal "${lines[-1]}" "main: goroutines left: 1 (main)"
}

# bats test_tags=practice
@test "patterns/rate-limit: --break=per-request: every limiter lets the burst through, and the program says so" {
    run_bounded 20 "$BIN/patterns/rate-limit" --break=per-request
    assert_failure 1
    assert_no_stderr
    every_request_once 15
    local l
    for l in $LIMITERS; do
        [[ "$(lane "$l")" == *": BLOWN: #"*" through at "*", not allowed before "* ]] ||
            { echo "$(lane "$l")"; return 1; }
    done
    # A bucket full of tokens for each request: far more than the burst of 3 go at once.
    [[ "$(lane token)" =~ ^token:\ 15\ through,\ ([0-9]+)\ at\ once ]]
    [ "${BASH_REMATCH[1]}" -gt 3 ]
    assert_equal "${lines[-2]}" "main: 5 of 5 limiters let more through than burst + rate x elapsed"
    assert_equal "${lines[-1]}" "main: goroutines left: 1 (main)"
}

@test "patterns/rate-limit: --break alone means --break=per-request" {
    # 30 requests: blown by far, however late a loaded machine starts them.
    run_bounded 20 "$BIN/patterns/rate-limit" --break -n 30
    assert_failure 1
    assert_line "main: 5 of 5 limiters let more through than burst + rate x elapsed"
}

@test "patterns/rate-limit: the race detector finds nothing" {
    run_bounded 20 "$TSAN_BIN/patterns/rate-limit" -n 10 --rate 20
    assert_success
    assert_no_stderr
    every_request_once 10
    assert_equal "${lines[-1]}" "main: goroutines left: 1 (main)"
}

@test "patterns/rate-limit: the limiters on a fake clock: every admission at its exact instant (tests/test_rate_limit.c)" {
    c_only "the C test program of rate_limit.h"
    # Built by the Makefile's rule for tests/test_*.c: make test and make
    # test/LESSON build every test program first.
    run_cases test_rate_limit
}

@test "patterns/rate-limit: bad flags and values: exit 2, nothing on stdout, the error and the usage on stderr" {
    assert_bad_flags patterns/rate-limit "-n 0" "-n 101" "-n abc" "--rate 0" "--rate 1001" \
        "--burst 0" "--burst 101" "--timeout soon" "--break=oops" "--bogus" "-x"
}

@test "patterns/rate-limit: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/rate-limit
}
