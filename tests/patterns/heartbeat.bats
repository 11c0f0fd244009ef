#!/usr/bin/env bats
# patterns/heartbeat: every unit of work beats once, before its result; a
# stalled worker is reported, never before it stalled, within the bound the
# program prints (given a generous factor on a loaded machine), and a unit
# longer than the timeout is not taken for a stall; the monitor without its
# timeout reports nothing while the work has stopped; nothing is left running.
load ../test_helper

# units_once K N: units 1..K each started (their beat) and were done exactly
# once, the beat before the result, and units K+1..N never started.
units_once() {
    local bad
    bad=$(awk -v k="$1" -v n="$2" '
        /^monitor: unit [0-9]+ starts$/ { if (!starts[$3]++) start_at[$3] = NR }
        /^monitor: unit [0-9]+ done$/ { if (!dones[$3]++) done_at[$3] = NR }
        END {
            for (u = 1; u <= k; u++) {
                if (starts[u] != 1 || dones[u] != 1) {
                    print "unit " u ": " starts[u] + 0 " beats, " dones[u] + 0 " results"
                    exit
                }
                if (start_at[u] > done_at[u]) { print "unit " u ": its result came before its beat"; exit }
            }
            for (u = k + 1; u <= n; u++)
                if (starts[u] || dones[u]) { print "unit " u " started, though only " k " should"; exit }
        }' <<<"$output")
    [ -z "$bad" ] || { echo "$bad"; echo "$output"; return 1; }
}

# stall_reported: the last run reported the stall: no beat for at least the
# timeout (its timer cannot fire early), noticed after the stall began and
# within five times the printed bound.
stall_reported() {
    local line bound noticed quiet
    line=$(grep '^monitor: stall noticed after ' <<<"$output") ||
        { echo "no stall reported:"; echo "$output"; return 1; }
    [[ "$line" =~ ^monitor:\ stall\ noticed\ after\ ([^,]+),\ bound\ 2\ x\ interval\ =\ (.+)$ ]]
    noticed=$(duration_ns "${BASH_REMATCH[1]}")
    bound=$(duration_ns "${BASH_REMATCH[2]}")
    [ "$noticed" -gt 0 ] && [ "$noticed" -le $((5 * bound)) ] ||
        { echo "stall noticed after $noticed ns, bound $bound ns"; return 1; }
    line=$(grep '^monitor: no beat for ' <<<"$output")
    [[ "$line" =~ ^monitor:\ no\ beat\ for\ (.+):\ the\ worker\ is\ not\ healthy$ ]]
    quiet=$(duration_ns "${BASH_REMATCH[1]}")
    [ "$quiet" -ge "$bound" ] || { echo "no beat for only $quiet ns, the timeout is $bound ns"; return 1; }
    refute_line --partial "false alarm"
}

# pulses: how many pulses the summary counts.
pulses() {
    sed -n 's/^summary: .*, pulses: \([0-9]*\); .*/\1/p' <<<"$output"
}

# bats test_tags=practice
@test "patterns/heartbeat: default: units 1..5 beat once each, the stall before 6 is reported within the bound" {
    # The defaults, slowed down under a sanitizer, as everything is there.
    run_bounded 20 "$BIN/patterns/heartbeat" --work $((150 * TIME_SCALE))ms \
        --interval $((100 * TIME_SCALE))ms --duration $((3 * TIME_SCALE))s
    assert_success
    assert_no_stderr
    assert_line --regexp '^heartbeat: 8 units of [0-9.]+m?s, a pulse every [0-9.]+m?s and a beat per unit; the worker stalls before unit 6$'
    units_once 5 8
    assert_line "worker: stalls before unit 6, without a beat"
    stall_reported
    assert_line --regexp '^summary: 5 of 8 units done; unit beats: 5, pulses: [0-9]+; stall reported$'
    # A unit takes one and a half intervals: the ticker fires during the work.
    [ "$(pulses)" -ge 1 ] || { echo "no pulse in 5 units of 1.5 intervals each"; return 1; }
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/heartbeat: --stall-at 0: every unit beats once and is done, no stall reported" {
    run_bounded 20 "$BIN/patterns/heartbeat" -n 20 --work 10ms --stall-at 0 \
        --interval $((200 * TIME_SCALE))ms
    assert_success
    assert_no_stderr
    assert_line --partial "the worker never stalls"
    units_once 20 20
    refute_line --partial "not healthy"
    assert_line --regexp '^summary: 20 of 20 units done; unit beats: 20, pulses: [0-9]+; no stall reported$'
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/heartbeat: a unit longer than the timeout is no stall: the pulses carry it" {
    # Each unit takes 2.5 timeouts; only the pulses tell the monitor it lives.
    run_bounded 30 "$BIN/patterns/heartbeat" -n 2 --stall-at 0 --work $((1000 * TIME_SCALE))ms \
        --interval $((200 * TIME_SCALE))ms --duration $((10 * TIME_SCALE))s
    assert_success
    assert_no_stderr
    units_once 2 2
    refute_line --partial "not healthy"
    assert_line --regexp '^summary: 2 of 2 units done; unit beats: 2, pulses: [0-9]+; no stall reported$'
    [ "$(pulses)" -ge 2 ] || { echo "$(pulses) pulses in two units of five intervals"; return 1; }
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/heartbeat: a stall with no beat at all, or right after a result, is reported within the bound" {
    local args k
    for args in "-n 3 --stall-at 1" "-n 5 --work 0 --stall-at 4" "-n 20 --work 5ms --stall-at 20"; do
        # shellcheck disable=SC2086
        run_bounded 20 "$BIN/patterns/heartbeat" $args --interval $((100 * TIME_SCALE))ms
        assert_success
        assert_no_stderr
        k=${args##* }
        units_once $((k - 1)) "$k"
        assert_line "worker: stalls before unit $k, without a beat"
        stall_reported
        assert_line --regexp "^summary: $((k - 1)) of [0-9]+ units done; unit beats: $((k - 1)), pulses: [0-9]+; stall reported$"
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/heartbeat: --break: the monitor without a timeout reports nothing while the work has stopped" {
    local b
    for b in --break --break=no-timeout; do
        run_bounded 20 "$BIN/patterns/heartbeat" "$b" -n 4 --work 20ms --stall-at 3 \
            --interval $((100 * TIME_SCALE))ms --duration $((1 * TIME_SCALE))s
        assert_success
        assert_no_stderr
        units_once 2 4
        assert_line "worker: stalls before unit 3, without a beat"
        refute_line --partial "not healthy"
        refute_line --partial "stall noticed"
        # Its own words: the run ended on --duration, long after the last beat.
        line=$(grep '^monitor: --duration .* is over, no stall reported; ' <<<"$output") ||
            { echo "the run did not end on --duration:"; echo "$output"; return 1; }
        [[ "$line" =~ the\ last\ beat\ came\ (.+)\ ago\ \(timeout\ (.+)\)$ ]]
        [ "$(duration_ns "${BASH_REMATCH[1]}")" -gt "$(duration_ns "${BASH_REMATCH[2]}")" ] ||
            { echo "the last beat came less than a timeout before the end: $line"; return 1; }
        assert_line --regexp '^summary: 2 of 4 units done; unit beats: 2, pulses: [0-9]+; no stall reported$'
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/heartbeat: --break=false is the monitor with its timeout" {
    run_bounded 20 "$BIN/patterns/heartbeat" --break=false -n 3 --work 10ms --stall-at 2 \
        --interval $((100 * TIME_SCALE))ms
    assert_success
    units_once 1 3
    stall_reported
}

@test "patterns/heartbeat: the race detector finds nothing, stall or break" {
    local args
    for args in "-n 4 --work 30ms --stall-at 3" "-n 3 --work 30ms --stall-at 0" \
        "--break -n 3 --work 30ms --stall-at 2 --duration 1s"; do
        # shellcheck disable=SC2086
        run_bounded 30 "$TSAN_BIN/patterns/heartbeat" $args --interval $((100 * TIME_SCALE))ms
        assert_success
        assert_no_stderr
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/heartbeat: valgrind: no errors, nothing definitely lost" {
    c_only "valgrind runs the C binary"
    [ -z "${SAN:-}" ] || skip "valgrind runs the release build"
    # Slow under valgrind: generous intervals, so that it is not a false alarm.
    run_bounded 60 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        "$BIN/patterns/heartbeat" -n 4 --work 50ms --stall-at 3 --interval 300ms
    assert_success
    assert_line --regexp '^summary: 2 of 4 units done; unit beats: 2, pulses: [0-9]+; stall reported$'
}

@test "patterns/heartbeat: bad flags and values: exit 2, the error and the usage on stderr" {
    assert_bad_flags patterns/heartbeat "-n 0" "-n 1001" "--stall-at -1" "--stall-at 1001" \
        "--interval 0" "--interval 11s" "--work -1ms" "--work x" "--duration 61s" "--break=oops" "-x"
}

@test "patterns/heartbeat: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/heartbeat
}
