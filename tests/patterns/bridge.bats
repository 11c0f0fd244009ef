#!/usr/bin/env bats
# patterns/bridge: the values of every inner channel, in order, as one
# stream; a consumer that stops early stops the bridge and the generator
# wherever they are, and nothing is left running (nor, in C, allocated: ASan
# and valgrind); the bridge that ignores done is still blocked at the end.
load ../test_helper

# bats test_tags=practice
@test "patterns/bridge: default: 5 channels of 4 values read as 1..20, in order; nothing left running" {
    run_bounded 10 "$BIN/patterns/bridge"
    assert_success
    assert_no_stderr
    assert_line "bridge: 5 channels of 4 values, read as one stream"
    assert_line "consumer: 20 values, sum 210, in order"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/bridge: many channels, short and long: every value once, in order" {
    for args in "-n 1 --per 2" "-n 1000 --per 2" "-n 3 --per 1000" "-n 200 --per 50"; do
        # shellcheck disable=SC2086
        run_bounded 60 "$BIN/patterns/bridge" $args
        assert_success
        read -r n per <<<"$(sed 's/-n \([0-9]*\) --per \([0-9]*\)/\1 \2/' <<<"$args")"
        total=$((n * per))
        assert_line "consumer: $total values, sum $((total * (total + 1) / 2)), in order"
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/bridge: --stop-after K, inside an inner channel or at its end: K values, then everyone returns" {
    for k in 1 3 4 5 8 19; do
        run_bounded 20 "$BIN/patterns/bridge" --stop-after "$k"
        assert_success
        assert_no_stderr
        assert_line "consumer: stops after $k values and closes done"
        assert_line "consumer: $k values, sum $((k * (k + 1) / 2)), in order"
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/bridge: --break: the bridge that ignores done is still blocked at the end" {
    for args in "" "-n 1 --per 2" "-n 3 --per 2 --stop-after 4" "--stop-after 1000" "--stop-after 7"; do
        # shellcheck disable=SC2086
        run_bounded 20 "$BIN/patterns/bridge" --break $args
        assert_success
        assert_line --regexp '^consumer: stops after [0-9]+ values and closes done$'
        assert_equal "${lines[-1]}" "goroutines at the end: 2 (main and 1 leaked)"
        [ "$IMPL" = go ] || [[ "$stderr" =~ ^leak:\ goroutine\ [0-9]+\ \[blocked\],\ started\ in\ bridge_goroutine$ ]] ||
            { echo "stderr: $stderr"; return 1; }
    done
}

@test "patterns/bridge: valgrind: no errors, nothing definitely lost (every inner channel is given back)" {
    c_only "valgrind runs the C binary"
    [ -z "${SAN:-}" ] || skip "valgrind runs the release build"
    for args in "-n 50" "-n 50 --stop-after 13"; do
        # shellcheck disable=SC2086
        run_bounded 60 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
            "$BIN/patterns/bridge" $args
        assert_success
    done
}

@test "patterns/bridge: bad flags and values: exit 2, the error and the usage on stderr" {
    assert_bad_flags patterns/bridge "-n 0" "--per 1" "--per x" "--stop-after -1" "--break=oops" "-x"
}

@test "patterns/bridge: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/bridge
}
