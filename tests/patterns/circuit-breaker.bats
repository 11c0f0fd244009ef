#!/usr/bin/env bats
# patterns/circuit-breaker: the changes of state the program prints are a
# path of the breaker's state machine (closed -> open -> half-open -> open or
# closed), in time order, never half-open before the open timeout has passed,
# and the first opening comes once the service fails; every request ends one
# way; requests fail fast while the breaker is open, and it is closed again at
# the end; nothing is left running. Without the breaker the callers pile up:
# the peak of those waiting on the service is far above the breaker's. The
# breaker itself is checked exactly, on a fake clock, by tests/test_breaker.c.
load ../test_helper
load ../common_helper

# check_changes OPEN_MS FAILS_FROM_MS: the "at T: FROM -> TO" lines of the
# last run. Prints what is wrong, if anything, then "end STATE".
check_changes() {
    awk -v open_ms="$1" -v fails_ms="$2" '
        function ms(d) { return d ~ /ms$/ ? substr(d, 1, length(d) - 2) + 0 : substr(d, 1, length(d) - 1) * 1000 }
        /^at [0-9.]+m?s: [a-z-]+ -> [a-z-]+$/ {
            t = ms(substr($2, 1, length($2) - 1)); from = $3; to = $5; n++
            if (from != (n == 1 ? "closed" : state)) print "line " NR ": from " from ", but it was " (n == 1 ? "closed" : state)
            if (!(from == "closed" && to == "open" || from == "open" && to == "half-open" ||
                  from == "half-open" && (to == "open" || to == "closed"))) print "line " NR ": no such change"
            if (t < last) print "line " NR ": at " t "ms, after " last "ms"
            if (to == "half-open" && t < opened + open_ms) print "line " NR ": half-open " t - opened "ms after it opened"
            if (n == 1 && t < fails_ms) print "line " NR ": opened at " t "ms, before the service failed"
            if (to == "open") opened = t
            state = to; last = t }
        END { if (n == 0) print "no change of state"; print "end " state }' <<<"$output"
}

# field NAME: the number before NAME on the "requests: " line.
requests_field() {
    sed -n "s/^requests: .*[ (]\\([0-9][0-9]*\\) $1.*/\\1/p" <<<"$output"
}

# check_requests N: the requests add up: N = succeeded + failed + failed
# fast, and the fast ones are the open and the half-open refusals.
check_requests() {
    [[ "${lines[*]}" =~ requests:\ ([0-9]+)\ =\ ([0-9]+)\ succeeded\ \+\ ([0-9]+)\ failed\ \+\ ([0-9]+)\ failed\ fast\ \(([0-9]+)\ open,\ ([0-9]+)\ half-open\) ]] ||
        { echo "no requests line"; return 1; }
    local m=("${BASH_REMATCH[@]}")
    assert_equal "${m[1]}" "$1"
    assert_equal $((m[2] + m[3] + m[4])) "$1"
    assert_equal $((m[5] + m[6])) "${m[4]}"
}

# peak: the most goroutines waiting on the service at once, in the last run.
peak() {
    sed -n 's/^waiting on the service at the peak: \([0-9]*\);.*/\1/p' <<<"$output"
}

# bats test_tags=practice
@test "patterns/circuit-breaker: default: it opens once the service fails, fails fast while open, closes again" {
    run_bounded 30 "$BIN/patterns/circuit-breaker"
    assert_success
    assert_no_stderr
    assert_line "1000 requests over 2s; the service fails 90% of calls from 500ms to 1.5s (a failure takes 40ms), 2% before and after"
    assert_line "breaker: opens after 3 consecutive failures, stays open 100ms, lets 3 through half-open"
    run_changes=$(check_changes 100 500)
    assert_equal "$run_changes" "end closed"
    assert_line --regexp '^at [0-9.]+m?s: closed -> open$'
    assert_line --regexp '^at [0-9.]+m?s: half-open -> closed$'
    check_requests 1000
    # While open, requests fail fast; half-open, all but 3 do.
    [ "$(requests_field open,)" -gt 0 ] && [ "$(requests_field half-open)" -gt 0 ] ||
        { echo "nothing failed fast"; return 1; }
    assert_line "breaker at the end: closed"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/circuit-breaker: --break: no breaker, nothing fails fast, and the callers pile up far higher" {
    # 250 requests a second, a pace a ThreadSanitizer build keeps on a busy
    # machine, against a failing service that serves 100 a second.
    run_bounded 30 "$BIN/patterns/circuit-breaker" -n 750 --duration 3s
    assert_success
    with=$(peak)
    run_bounded 30 "$BIN/patterns/circuit-breaker" -n 750 --duration 3s --break
    assert_success
    assert_no_stderr
    assert_line "no breaker"
    refute_line --regexp '^at .* -> '
    refute_line --partial "breaker at the end"
    check_requests 750
    assert_equal "$(requests_field 'failed fast')" 0
    without=$(peak)
    # About 10 with the breaker (the calls let through before it opens);
    # some 220 without on an idle machine, 80 under ThreadSanitizer on a
    # loaded one: the queue of a second and a half of slow failures.
    [ "$without" -gt $((3 * with)) ] || { echo "peak without the breaker $without, with $with"; return 1; }
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/circuit-breaker: other settings: the changes still make a path of the machine, the requests add up" {
    for args in "-n 400 --duration 1s --trip-after 1 --open-for 50ms --half-open 1" \
        "-n 300 --duration 1s --trip-after 4 --half-open 10 --seed 5" \
        "-n 500 --duration 1200ms --open-for 20ms --timeout 10ms --work 1ms"; do
        # shellcheck disable=SC2086
        run_bounded 30 "$BIN/patterns/circuit-breaker" $args
        assert_success
        assert_no_stderr
        read -r n open_ms <<<"$(awk '{ n = 1000; o = 100
            for (i = 1; i < NF; i++) { if ($i == "-n") n = $(i + 1); if ($i == "--open-for") o = $(i + 1) + 0 }
            print n, o }' <<<"$args")"
        # A breaker that trips on one or two failures may open while the
        # service is healthy (2% fail): no check of the first opening here.
        changes=$(check_changes "$open_ms" 0)
        [[ "$changes" =~ ^end\ (closed|open|half-open)$ ]] || { echo "$args: $changes"; return 1; }
        check_requests "$n"
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/circuit-breaker: the race detector finds nothing, with the breaker and without" {
    for mode in "" "--break"; do
        # shellcheck disable=SC2086
        run_bounded 60 "$TSAN_BIN/patterns/circuit-breaker" -n 300 --duration 1s $mode
        assert_success
        assert_no_stderr
        check_requests 300
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/circuit-breaker: the breaker on a fake clock: every transition at its exact instant (tests/test_breaker.c)" {
    c_only "the C test program of breaker.h"
    # Built by the Makefile's rule for tests/test_*.c (make, make test), here
    # too when only this lesson's tests run; the Makefile passes its variant.
    make -s -C "$TOP" --no-print-directory "${TESTBIN#"$TOP"/}/test_breaker"
    run_cases test_breaker
}

@test "patterns/circuit-breaker: valgrind: no errors, nothing definitely lost" {
    c_only "valgrind runs the C binary"
    [ -z "${SAN:-}" ] || skip "valgrind runs the release build"
    for mode in "" "--break"; do
        # shellcheck disable=SC2086
        run_bounded 120 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
            "$BIN/patterns/circuit-breaker" -n 200 --duration 1s $mode
        assert_success
    done
}

@test "patterns/circuit-breaker: bad flags and values: exit 2, the error and the usage on stderr" {
    assert_bad_flags patterns/circuit-breaker "-n 0" "-n 100001" "--duration 0" "--duration 2h" \
        "--open-for 0" "--trip-after 0" "--half-open 0" "--half-open 1001" "--work x" "--seed y" \
        "--break=oops" "-x"
}

@test "patterns/circuit-breaker: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/circuit-breaker
}
