#!/usr/bin/env bats
# patterns/tee: both readers get every value, in order; when one stops early
# and closes done, the other stops too, having got at least K-1, and nothing
# is left running; the tee that ignores done deadlocks.
load ../test_helper

# reader_count ID: how many values reader ID says it got.
reader_count() {
    sed -n "s/^reader $1: \\([0-9]*\\) values, .*/\\1/p" <<<"$output"
}

# bats test_tags=practice
@test "patterns/tee: default: both readers get all 10 values, in order, and nothing is left running" {
    run_bounded 10 "$BIN/patterns/tee"
    assert_success
    assert_no_stderr
    assert_line "reader 1: 10 values, sum 55, in order"
    assert_line "reader 2: 10 values, sum 55, in order"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/tee: -n 100000: every value to both, in order" {
    run_bounded 60 "$BIN/patterns/tee" -n 100000
    assert_success
    assert_line "reader 1: 100000 values, sum 5000050000, in order"
    assert_line "reader 2: 100000 values, sum 5000050000, in order"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/tee: --stop-after K: reader 2 gets K, reader 1 at least K-1, then everyone returns" {
    for k in 1 3 50 999; do
        run_bounded 20 "$BIN/patterns/tee" -n 1000 --stop-after "$k"
        assert_success
        assert_no_stderr
        assert_line "reader 2: stops after $k values and closes done"
        assert_equal "$(reader_count 2)" "$k"
        # The tee takes value v+1 only once both readers have v: reader 1
        # has K-1 at least. Once done is closed, a select that finds both
        # done and reader 1 ready picks one at random (Go's rule), so reader
        # 1 may get a few more: usually K or K+1, never more than the stream.
        c1=$(reader_count 1)
        [ "$c1" -ge $((k - 1)) ] && [ "$c1" -le 1000 ] ||
            { echo "reader 1 got $c1 with K = $k"; return 1; }
        assert_line --regexp '^reader 1: [0-9]+ values, sum [0-9]+, in order$'
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/tee: --break: the tee that ignores done waits forever: the deadlock report" {
    for args in "" "-n 4" "-n 1000 --stop-after 10"; do
        # shellcheck disable=SC2086
        run_bounded 20 "$BIN/patterns/tee" --break $args
        deadlock_reported
        assert_line --regexp '^reader 2: stops after [0-9]+ values and closes done$'
        refute_line --regexp '^reader 1: '
    done
}

@test "patterns/tee: valgrind: no errors, nothing definitely lost" {
    c_only "valgrind runs the C binary"
    [ -z "${SAN:-}" ] || skip "valgrind runs the release build"
    run_bounded 60 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        "$BIN/patterns/tee" -n 1000 --stop-after 10
    assert_success
}

@test "patterns/tee: bad flags and values: exit 2, the error and the usage on stderr" {
    assert_bad_flags patterns/tee "-n 0" "-n x" "--stop-after -1" "--break=oops" "-x"
}

@test "patterns/tee: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/tee
}
