#!/usr/bin/env bats
# 07-pipeline: the values come out in order, what is in flight never exceeds
# the buffers plus the stages, cancelling stops every stage, and --break
# leaves one behind.

load test_helper

# check_in_flight: the reported maximum is within the reported bound, and the
# bound is 4 stages + 3 buffers of BUFFER.
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

@test "defaults: every value, in order, within the bound, no stage leaked" {
    run_bounded 10 "$BIN/07-pipeline"
    assert_success
    assert_no_stderr
    check_values 20
    assert_line "sink: got 20 values"
    check_in_flight 1
    assert_equal "${lines[-1]}" "stages leaked: 0"
}

@test "unbuffered and large buffers, fast and slow sinks: the bound holds" {
    # 300 values, more than the largest bound (4 + 3 * 64 = 196): with the
    # slow sink, a pipeline without backpressure (a generator that runs ahead
    # into an unbounded queue) would have nearly all 300 in flight at once.
    local buffer delay n=300
    for buffer in 0 1 4 64; do
        [ "$n" -gt $((4 + 3 * buffer)) ]
        for delay in 0 2ms; do
            run_bounded 10 "$BIN/07-pipeline" -n "$n" --buffer "$buffer" --delay "$delay"
            assert_success
            assert_no_stderr
            check_values "$n"
            check_in_flight "$buffer"
            assert_equal "${lines[-1]}" "stages leaked: 0"
        done
    done
}

@test "--take stops a long pipeline early, and every stage returns" {
    # 100000 values at 5ms each would take minutes: only cancelling ends it.
    run_bounded 10 "$BIN/07-pipeline" -n 100000 --take 3
    assert_success
    assert_no_stderr
    check_values 3
    assert_line "sink: got 3 values, then cancelled the pipeline"
    check_in_flight 1
    assert_equal "${lines[-1]}" "stages leaked: 0"
}

@test "--take with any buffer and speed: no stage leaks" {
    local args
    for args in "--take 1 --delay 0 --buffer 0" "--take 1 --delay 0 --buffer 64" \
        "--take 10 --delay 0 --buffer 1" "--take 5 --delay 1ms --buffer 8" "--take 50 --delay 0"; do
        # shellcheck disable=SC2086
        run_bounded 10 "$BIN/07-pipeline" -n 1000000 $args
        assert_success
        assert_no_stderr
        assert_equal "${lines[-1]}" "stages leaked: 0"
    done
}

@test "--break: a generator that ignores the context leaks, exit 1" {
    run_bounded 10 "$BIN/07-pipeline" --break -n 100
    assert_failure 1
    assert_no_stderr
    check_values 3
    assert_line "sink: got 3 values, then cancelled the pipeline"
    assert_equal "${lines[-1]}" "stages leaked: 1"
}

@test "--break with an unbuffered pipeline leaks too" {
    run_bounded 10 "$BIN/07-pipeline" --break -n 100 --buffer 0 --take 5
    assert_failure 1
    assert_no_stderr
    check_values 5
    check_in_flight 0
    assert_equal "${lines[-1]}" "stages leaked: 1"
}

@test "-h and --help: usage on stdout, exit 0" {
    assert_help 07-pipeline
}

@test "bad flags: a one-line usage error, exit 2" {
    local args
    for args in "-n -1" "-n x" "--buffer 1001" "--buffer" "--take 1.5" "--delay 2s" \
        "--delay fast" "--bogus" "-q" "leftover"; do
        # shellcheck disable=SC2086
        run_bounded 10 "$BIN/07-pipeline" $args
        [ "$status" -eq 2 ] && [ -z "$output" ] && [ "$(wc -l <<<"$stderr")" -eq 1 ] &&
            [[ $stderr == "07-pipeline: "*"usage: 07-pipeline "* ]] ||
            { echo "args '$args': status $status, stdout '$output', stderr '$stderr'"; return 1; }
    done
}
