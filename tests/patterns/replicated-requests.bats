#!/usr/bin/env bats
# patterns/replicated-requests: every request gets one answer; each replica
# that lost either was cancelled or had finished before the cancel reached
# it (started = answers + cancelled + kept working, row by row); replicas are
# cancelled for real; hedging starts between 1 and N copies; nothing is left
# running. The latencies are printed, not asserted: the machine is shared.
load ../test_helper

# row NAME: the started, cancelled and kept-working columns of row NAME.
row() {
    awk -v name="$1" '$1 == name { print $6, $7, $8 }' <<<"$output"
}

# check_rows N R: the invariants of the three rows, for N requests of R replicas.
check_rows() {
    local n=$1 r=$2 started cancelled kept
    read -r started cancelled kept <<<"$(row single)"
    assert_equal "$started $cancelled $kept" "$n 0 0"
    read -r started cancelled kept <<<"$(row replicated)"
    assert_equal "$started" $((n * r))
    assert_equal $((n + cancelled + kept)) "$started"
    read -r started cancelled kept <<<"$(row hedged)"
    [ "$started" -ge "$n" ] && [ "$started" -le $((n * r)) ] || { echo "hedged started $started"; return 1; }
    assert_equal $((n + cancelled + kept)) "$started"
}

# bats test_tags=practice
@test "patterns/replicated-requests: default: every row adds up, losers are cancelled, nothing left running" {
    run_bounded 60 "$BIN/patterns/replicated-requests"
    assert_success
    assert_no_stderr
    assert_line "100 requests, 3 replicas each, hedged after 10ms"
    check_rows 100 3
    read -r started cancelled kept <<<"$(row replicated)"
    # 200 losers: some may finish in the moment between the winner and the
    # cancel, but the cancel does stop replicas.
    [ "$cancelled" -gt 0 ] || { echo "no replica was cancelled"; return 1; }
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/replicated-requests: other sizes, replicas and hedges: every row adds up" {
    for args in "-n 20 --replicas 2" "-n 30 --replicas 8 --hedge 1ms" "-n 10 --replicas 16 --hedge 100ms --seed 7"; do
        # shellcheck disable=SC2086
        run_bounded 60 "$BIN/patterns/replicated-requests" $args
        assert_success
        read -r n r <<<"$(sed 's/-n \([0-9]*\) --replicas \([0-9]*\).*/\1 \2/' <<<"$args")"
        check_rows "$n" "$r"
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/replicated-requests: --break: no replica is cancelled, every loser works to the end" {
    run_bounded 60 "$BIN/patterns/replicated-requests" --break -n 30
    assert_success
    check_rows 30 3
    for name in replicated hedged; do
        read -r started cancelled kept <<<"$(row "$name")"
        assert_equal "$cancelled" 0
        assert_equal "$kept" $((started - 30))
    done
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/replicated-requests: valgrind: no errors, nothing definitely lost" {
    c_only "valgrind runs the C binary"
    [ -z "${SAN:-}" ] || skip "valgrind runs the release build"
    run_bounded 120 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        "$BIN/patterns/replicated-requests" -n 10
    assert_success
}

@test "patterns/replicated-requests: bad flags and values: exit 2, the error and the usage on stderr" {
    assert_bad_flags patterns/replicated-requests "-n 0" "--replicas 1" "--replicas 17" "--hedge 0" \
        "--hedge x" "--seed y" "--break=oops" "-x"
}

@test "patterns/replicated-requests: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/replicated-requests
}
