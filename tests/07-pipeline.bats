#!/usr/bin/env bats
# 07-pipeline: the values come out in order, what is in flight never exceeds
# the buffers plus the stages, closing done stops every stage (no goroutine is
# left: go_num_goroutines, runtime.NumGoroutine in Go), and --break leaves the
# generator behind whatever the other flags. Runs on the C (IMPL=c) and on the
# Go twin (IMPL=go).

load test_helper

# check_in_flight BUFFER: the reported maximum is within the reported bound,
# and the bound is 4 stages + 3 buffers of BUFFER.
check_in_flight() {
    local buffer=$1 line max bound
    line=$(grep '^in flight at most: ' <<<"$output")
    [[ $line =~ ^in\ flight\ at\ most:\ ([0-9]+)\ \(bound:\ 4\ stages\ \+\ 3\ buffers\ of\ $buffer\ =\ ([0-9]+)\)$ ]] ||
        { echo "bad line: '$line'"; return 1; }
    max=${BASH_REMATCH[1]} bound=${BASH_REMATCH[2]}
    [ "$bound" -eq $((4 + 3 * buffer)) ] || { echo "bound $bound, want $((4 + 3 * buffer))"; return 1; }
    [ "$max" -ge 1 ] && [ "$max" -le "$bound" ] || { echo "in flight $max, bound $bound"; return 1; }
}

# check_values COUNT: the sink got i*i+1 for i = 1..COUNT, in that order
# (one chain of channels keeps the order).
check_values() {
    local got want
    got=$(sed -n 's/^sink: \([0-9][0-9]*\)$/\1/p' <<<"$output" | tr '\n' ' ')
    want=$(seq 1 "$1" | awk '{ printf "%d ", $1 * $1 + 1 }')
    [ "$got" = "$want" ] || { echo "got:  ${got:0:200}"; echo "want: ${want:0:200}"; return 1; }
}

# check_clean: the last run succeeded, said nothing on stderr, and every
# stage returned.
check_clean() {
    assert_success
    assert_no_stderr
    assert_equal "${lines[-1]}" "stages leaked: 0"
}

# bats test_tags=practice
@test "07-pipeline: defaults: every value, in order, within the bound, no stage leaked" {
    run_bounded 10 "$BIN/07-pipeline"
    check_clean
    assert_line --index 0 \
        "pipeline: generate 1..20 -> square -> add one -> sink (buffers of 1, sink takes 5ms per value)"
    check_values 20
    assert_line "sink: got 20 values"
    check_in_flight 1
}

@test "07-pipeline: unbuffered and large buffers, fast and slow sinks: the bound holds" {
    # 300 values, more than the largest bound (4 + 3 * 64 = 196): with the
    # slow sink, a pipeline without backpressure (a generator that runs ahead
    # into an unbounded queue) would have nearly all 300 in flight at once.
    local buffer delay n=300
    for buffer in 0 1 4 64; do
        [ "$n" -gt $((4 + 3 * buffer)) ]
        for delay in 0 2ms; do
            run_bounded 10 "$BIN/07-pipeline" -n "$n" --buffer "$buffer" --delay "$delay"
            check_clean
            check_values "$n"
            check_in_flight "$buffer"
        done
    done
}

# bats test_tags=practice
@test "07-pipeline: --take stops a long pipeline early, and closing done returns every stage" {
    # 100000 values at 5ms each would take minutes: only stopping early ends
    # it, and only closing done lets the stages blocked on a send return.
    run_bounded 10 "$BIN/07-pipeline" -n 100000 --take 3
    check_clean
    check_values 3
    assert_line "sink: got 3 values, then stopped early"
    check_in_flight 1
}

@test "07-pipeline: --take with any buffer and speed: no stage leaks" {
    local args
    for args in "--take 1 --delay 0 --buffer 0" "--take 1 --delay 0 --buffer 64" \
        "--take 10 --delay 0 --buffer 1" "--take 5 --delay 1ms --buffer 8" "--take 50 --delay 0" \
        "--take 20" "--take 21"; do
        # shellcheck disable=SC2086 # split on purpose
        run_bounded 10 "$BIN/07-pipeline" -n 1000000 $args
        check_clean
    done
    # --take at or past the end: every value, in order.
    run_bounded 10 "$BIN/07-pipeline" --take 25 --delay 0
    check_clean
    check_values 20
    assert_line "sink: got 20 values"
}

@test "07-pipeline: no values: the stages close in a chain, and the sink's range ends" {
    run_bounded 10 "$BIN/07-pipeline" -n 0
    check_clean
    check_values 0
    assert_line "sink: got 0 values"
}

@test "07-pipeline: Go's flag syntax: --n=5, -buffer=0, -take 2, -delay 1ms, --break=false" {
    run_bounded 10 "$BIN/07-pipeline" --n=5 -buffer=0 -take 2 -delay 1ms --break=false
    check_clean
    check_values 2
    assert_line --index 0 \
        "pipeline: generate 1..5 -> square -> add one -> sink (buffers of 0, sink takes 1ms per value)"
    assert_line "sink: got 2 values, then stopped early"
}

@test "07-pipeline: --break: the generator ignores done and leaks, exit 1" {
    run_bounded 10 "$BIN/07-pipeline" --break
    assert_failure 1
    assert_no_stderr
    check_values 3
    assert_line "sink: got 3 values, then stopped early"
    assert_equal "${lines[-1]}" "stages leaked: 1"
}

@test "07-pipeline: --break breaks with every flag combination it accepts" {
    # TAKE + 3 x BUFFER + 2 is what the generator can still send after the
    # sink stops; one value more and it blocks for good. The runs at that
    # edge (-n 4, -n 12, -n 3006) check the arithmetic; --delay 0 lets the
    # stages race the sink's stop.
    local args take
    for args in "--take 0" "--break=deaf -n 100" "--buffer 0 --take 5 -n 100" "--take 1 --buffer 0 -n 4" \
        "--take 1 --buffer 0 -n 4 --delay 0" "--buffer 2 -n 12" "--buffer 2 -n 12 --delay 0" \
        "--buffer 1000 -n 3006 --delay 0" "--take 100 --delay 0 -n 1000000" "--delay 0 --take 1"; do
        # shellcheck disable=SC2086 # split on purpose
        run_bounded 10 "$BIN/07-pipeline" --break $args
        [ "$status" -eq 1 ] || { echo "--break $args: status $status"; return 1; }
        assert_no_stderr
        assert_equal "${lines[-1]}" "stages leaked: 1"
        take=$(sed -n 's/.*--take \([0-9]*\).*/\1/p' <<<" $args")
        [ "${take:-0}" -gt 0 ] || take=3
        check_values "$take"
        assert_line "sink: got $take values, then stopped early"
    done
}

@test "07-pipeline: --break refuses the combinations where every value fits (exit 2)" {
    local args
    for args in "--buffer 10" "-n 8" "-n 3 --take 1 --buffer 0" "--take 20" "-n 0" "--take 0 -n 8"; do
        # shellcheck disable=SC2086 # split on purpose
        run_bounded 5 "$BIN/07-pipeline" --break $args
        [ "$status" -eq 2 ] && [ -z "$output" ] || { echo "--break $args: status $status, '$output'"; return 1; }
        [[ "${stderr_lines[0]}" == "--break needs -n above --take + 3 x --buffer + 2 = "*": a value left to block on" ]] ||
            { echo "--break $args: '$stderr'"; return 1; }
        [[ "${stderr_lines[1]}" == "Usage of "*"07-pipeline:" ]]
    done
    run_bounded 5 "$BIN/07-pipeline" --break --buffer 10
    assert_equal "${stderr_lines[0]}" "--break needs -n above --take + 3 x --buffer + 2 = 35: a value left to block on"
}

@test "07-pipeline: -h and --help: Go's usage on stderr, exit 0" {
    assert_help 07-pipeline
    run_bounded 5 "$BIN/07-pipeline" -h
    for flag in -break "-buffer int" "-delay duration" "-n int" "-take N"; do
        assert_equal "$(grep -c -- "^  $flag\$" <<<"$stderr")" 1
    done
}

@test "07-pipeline: bad flags and values: Go's error line and the usage, exit 2" {
    assert_bad_flags 07-pipeline "-n -1" "-n x" "-n 1000001" "--buffer 1001" "--buffer -1" "--buffer" \
        "--take 1.5" "--take -1" "--delay fast" "--delay" "--bogus" "-q" "leftover" "--break=yes"
    run_bounded 5 "$BIN/07-pipeline" --buffer 1001
    assert_equal "${stderr_lines[0]}" 'invalid value "1001" for flag -buffer: must be 0..1000'
    run_bounded 5 "$BIN/07-pipeline" --break=yes
    assert_equal "${stderr_lines[0]}" 'invalid boolean value "yes" for -break: must be one of deaf'
    run_bounded 5 "$BIN/07-pipeline" leftover
    assert_equal "${stderr_lines[0]}" 'unexpected argument: leftover'
}
