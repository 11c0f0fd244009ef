#!/usr/bin/env bats
# 03-select: the merge gets every value of both producers (each in its own
# order) and wastes no round once a case is switched off; the timeout, the
# defaults and the stopped timer behave as Go's do.
load test_helper

# values NAME: the values received from producer NAME, one per line.
values() {
    sed -n "s/^$1 \([0-9][0-9]*\)$/\1/p" <<<"$output"
}

@test "default: both producers merged in full, and no wasted round" {
    run_bounded 10 "$BIN/03-select"
    assert_success
    assert_no_stderr
    assert_equal "$(values fast)" "$(seq 1 5)"
    assert_equal "$(values slow)" "$(seq 1 5)"
    assert_equal "$(grep -c '^fast closed$' <<<"$output")" 1
    assert_equal "$(grep -c '^slow closed$' <<<"$output")" 1
    assert_line "merge: fast=5 slow=5 wasted_rounds=0"
    assert_line "non-blocking receive: nothing ready, took the default"
    assert_line "non-blocking send: no receiver ready, took the default"
    assert_line "timer: stopped before firing: true"
    assert_equal "$(grep -c '^call: ' <<<"$output")" 1
}

@test "-n 40: forty values from each, each producer's in its own order" {
    run_bounded 20 "$BIN/03-select" -n 40
    assert_success
    assert_no_stderr
    assert_equal "$(values fast)" "$(seq 1 40)"
    assert_equal "$(values slow)" "$(seq 1 40)"
    assert_line "merge: fast=40 slow=40 wasted_rounds=0"
}

@test "a call slower than its timeout times out" {
    run_bounded 10 "$BIN/03-select" --work 500ms --timeout 1ms
    assert_success
    assert_no_stderr
    assert_line "call: timed out"
    refute_line --partial "call: answer"
}

@test "a call faster than its timeout answers" {
    run_bounded 10 "$BIN/03-select" --work 0 --timeout 10s
    assert_success
    assert_no_stderr
    assert_line "call: answer 42"
    refute_line "call: timed out"
}

@test "--break=spin: a closed case left on wins round after round" {
    run_bounded 10 "$BIN/03-select" --break=spin -n 10
    assert_success
    assert_no_stderr
    # Still no value lost, however much the loop spins.
    assert_equal "$(values fast)" "$(seq 1 10)"
    assert_equal "$(values slow)" "$(seq 1 10)"
    line=$(grep '^merge: ' <<<"$output")
    [[ "$line" =~ ^merge:\ fast=10\ slow=10\ wasted_rounds=([0-9]+)$ ]]
    echo "wasted rounds: ${BASH_REMATCH[1]}"
    [ "${BASH_REMATCH[1]}" -gt 100 ]
}

@test "--break alone means --break=spin" {
    run_bounded 10 "$BIN/03-select" --break
    assert_success
    refute_line --partial "wasted_rounds=0"
}

@test "bad flags and values: exit 2, nothing on stdout, one line on stderr" {
    assert_bad_flags 03-select "-n 0" "-n 1001" "-n many" "--timeout" "--timeout 5" \
        "--timeout -1s" "--work forever" "--break=loop" "--fast" "-t 1s" "leftover"
}

@test "-h and --help: usage on stdout, exit 0" {
    assert_help 03-select
}
