#!/usr/bin/env bats
# patterns/or-channel: or() closes when the first of its channels closes, never
# before, with one goroutine per two channels (recursive) or one in all
# (select); or-done stops forwarding when done closes, and nothing is left
# running at the end; the break leaves its forwarder blocked.
load ../test_helper

# field NAME: the duration on the line "or (NAME): closed after D", in ns.
closed_after_ns() {
    local d
    d=$(sed -n "s/^or ($1): closed after \\(.*\\)$/\\1/p" <<<"$output")
    duration_ns "$d"
}

# recursive_goroutines N: how many goroutines the book's or() starts for N
# channels: none for 1, one for 2, and one more per three beyond that.
recursive_goroutines() {
    local n=$1 g=0
    while [ "$n" -ge 2 ]; do
        g=$((g + 1))
        [ "$n" -eq 2 ] && break
        n=$((n - 2))
    done
    echo "$g"
}

# bats test_tags=practice
@test "patterns/or-channel: default: both ors close after the first channel, never before; nothing left running" {
    run_bounded 20 "$BIN/patterns/or-channel"
    assert_success
    assert_no_stderr
    assert_line "or: 10 channels, the first closes after 50ms (channel 3)"
    for kind in recursive select; do
        ns=$(closed_after_ns "$kind")
        [ "$ns" -ge 50000000 ] || { echo "or ($kind) closed after $ns ns, before the first channel"; return 1; }
        # The last channel closes after 500ms: or must not have waited for it.
        [ "$ns" -lt $((500000000 * TIME_SCALE)) ] || { echo "or ($kind) waited $ns ns"; return 1; }
    done
    assert_line "goroutines of or: recursive 5, select 1"
    assert_line "or-done: read 5 values (sum 15), then closed done"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/or-channel: -n 1..12: the recursive or starts the goroutines it should, and all return" {
    for n in 1 2 3 4 5 6 7 12; do
        run_bounded 20 "$BIN/patterns/or-channel" -n "$n" --step 5ms --take 20
        assert_success
        assert_no_stderr
        assert_line "goroutines of or: recursive $(recursive_goroutines "$n"), select 1"
        assert_line "or-done: read 20 values (sum 210), then closed done"
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/or-channel: -n 100: a hundred channels, one or of each kind, nothing left running" {
    run_bounded 30 "$BIN/patterns/or-channel" -n 100 --step 1ms
    assert_success
    assert_line "goroutines of or: recursive 50, select 1"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/or-channel: --break: the forwarder that ignores done is still blocked at the end" {
    for i in 1 2 3; do
        run_bounded 20 "$BIN/patterns/or-channel" --break --step 5ms
        assert_success
        # C's leak check (go_leaks) names the goroutine it found on stderr.
        [ "$IMPL" = go ] || [[ "$stderr" =~ ^leak:\ goroutine\ [0-9]+\ \[blocked\],\ started\ in\ or_done_goroutine$ ]] ||
            { echo "stderr: $stderr"; return 1; }
        assert_line "or-done: read 5 values (sum 15), then closed done"
        assert_equal "${lines[-1]}" "goroutines at the end: 2 (main and 1 leaked)"
    done
}

@test "patterns/or-channel: valgrind: no errors, nothing definitely lost" {
    c_only "valgrind runs the C binary"
    [ -z "${SAN:-}" ] || skip "valgrind runs the release build"
    run_bounded 60 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        "$BIN/patterns/or-channel" -n 12 --step 5ms
    assert_success
}

@test "patterns/or-channel: bad flags and values: exit 2, the error and the usage on stderr" {
    assert_bad_flags patterns/or-channel "-n 0" "-n 101" "--take 0" "--take 1000" "--step x" \
        "--break=oops" "-x"
}

@test "patterns/or-channel: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/or-channel
}
