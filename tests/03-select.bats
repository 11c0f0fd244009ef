#!/usr/bin/env bats
# 03-select: the merge gets every value of both producers (each in its own
# order) and wastes no round once a case is switched off; the timeout, the
# defaults and the stopped timer behave as Go's do; a closed case left on
# spins, and the program counts the spins. Runs on the C (IMPL=c) and on its
# Go twin (IMPL=go).
load test_helper

# values NAME: the values received from producer NAME, one per line.
values() {
    sed -n "s/^$1 \([0-9][0-9]*\)$/\1/p" <<<"$output"
}

# bats test_tags=practice
@test "03-select: default: both producers merged in full, no wasted round, timeout and defaults" {
    run_bounded 10 "$BIN/03-select"
    assert_success
    assert_no_stderr
    assert_equal "$(values fast)" "$(seq 1 5)"
    assert_equal "$(values slow)" "$(seq 1 5)"
    assert_equal "$(grep -c '^fast closed$' <<<"$output")" 1
    assert_equal "$(grep -c '^slow closed$' <<<"$output")" 1
    assert_line "merge: fast=5 slow=5 wasted_rounds=0"
    # Exactly one outcome of the call: the timeout, since it takes 50 ms
    # against 10 (a main stalled 50 ms on a loaded machine could see both
    # ready: the tests of the call below leave wide margins instead).
    assert_equal "$(grep -c '^call: ' <<<"$output")" 1
    [[ "${lines[13]}" =~ ^call:\ (timed\ out|answer\ 42)$ ]]
    # After the merge, one goroutine at a time: these lines have a single order.
    assert_equal "${lines[12]}" "merge: fast=5 slow=5 wasted_rounds=0"
    assert_equal "$(sed -n '15,$p' <<<"$output")" "non-blocking receive: nothing ready, took the default
non-blocking send: no receiver ready, took the default
timer: stopped before firing: true"
    assert_equal "${#lines[@]}" 17
}

@test "03-select: -n 40: forty values from each, each producer's in its own order" {
    run_bounded 20 "$BIN/03-select" -n 40
    assert_success
    assert_no_stderr
    assert_equal "$(values fast)" "$(seq 1 40)"
    assert_equal "$(values slow)" "$(seq 1 40)"
    # Each closed line comes after that producer's last value.
    assert_equal "$(grep -E '^fast (40|closed)$' <<<"$output")" "fast 40
fast closed"
    assert_equal "$(grep -E '^slow (40|closed)$' <<<"$output")" "slow 40
slow closed"
    assert_line "merge: fast=40 slow=40 wasted_rounds=0"
}

@test "03-select: a call slower than its timeout times out" {
    run_bounded 10 "$BIN/03-select" --work 500ms --timeout 1ms
    assert_success
    assert_no_stderr
    assert_line "call: timed out"
    refute_line --partial "call: answer"
}

@test "03-select: a call faster than its timeout answers" {
    run_bounded 10 "$BIN/03-select" --work 0 --timeout 10s
    assert_success
    assert_no_stderr
    assert_line "call: answer 42"
    refute_line "call: timed out"
}

@test "03-select: Go's flag syntax: -work=0, --timeout=10s and --break=false are accepted" {
    run_bounded 10 "$BIN/03-select" -work=0 --timeout=10s --break=false -n=2
    assert_success
    assert_line "call: answer 42"
    assert_line "merge: fast=2 slow=2 wasted_rounds=0"
}

@test "03-select: --break=spin: a closed case left on wins round after round, and the spin ends" {
    # The fast producer closes after about 10 ms, the slow one after about
    # 100: the loop spins in between, unless main is late by more than the
    # slow producer's 10 ms at every round (at 4 ms, a loaded TSan run in CI
    # once counted 0). Measured on a loaded 2-core machine, the
    # fewest rounds were in the thousands (ThreadSanitizer's build) and the
    # hundreds of thousands (release); 100 is a floor a spinning loop clears.
    run_bounded 10 "$BIN/03-select" --break=spin -n 10
    assert_success
    assert_no_stderr
    # Still no value lost, however much the loop spins.
    assert_equal "$(values fast)" "$(seq 1 10)"
    assert_equal "$(values slow)" "$(seq 1 10)"
    assert_equal "$(grep -c '^fast closed$' <<<"$output")" 1
    assert_equal "$(grep -c '^slow closed$' <<<"$output")" 1
    line=$(grep '^merge: ' <<<"$output")
    [[ "$line" =~ ^merge:\ fast=10\ slow=10\ wasted_rounds=([0-9]+)$ ]]
    echo "wasted rounds: ${BASH_REMATCH[1]}"
    [ "${BASH_REMATCH[1]}" -gt 100 ]
    # The rest of the program runs as without --break.
    assert_line "timer: stopped before firing: true"
}

@test "03-select: --break alone means --break=spin" {
    run_bounded 10 "$BIN/03-select" --break -n 10
    assert_success
    line=$(grep '^merge: ' <<<"$output")
    [[ "$line" =~ ^merge:\ fast=10\ slow=10\ wasted_rounds=([0-9]+)$ ]]
    [ "${BASH_REMATCH[1]}" -gt 100 ]
}

@test "03-select: bad flags and values: exit 2, nothing on stdout, the error and the usage on stderr" {
    assert_bad_flags 03-select "-n 0" "-n 1001" "-n many" "--timeout" "--timeout 5" \
        "--timeout -1s" "--work -2ms" "--work forever" "--break=loop" "--break=" "--fast" "-t 1s" \
        "leftover" "--break=spin extra"
}

@test "03-select: -h and --help: the usage on stderr, exit 0" {
    assert_help 03-select
    [[ "$stderr" == *"-timeout duration"* && "$stderr" == *"(default 10ms)"* ]]
}
