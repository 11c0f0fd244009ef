#!/usr/bin/env bats
# patterns/semaphore-barrier: the channel semaphore never lets more than its
# limit in, and every job gets through; the weighted semaphore never hands out
# more than its units, and serves its queue in order (a job of all the units
# is not passed by jobs of one; a wait with a deadline gives up); at the
# barrier no phase begins before the last one has ended, phase after phase;
# nothing is left running. The barrier without a generation lets a goroutine
# run ahead, and the program's own check says so. The weighted semaphore
# itself is checked case by case by tests/test_semaphore.c.
load ../test_helper
load ../common_helper

# The number after "peak" on the line that starts with $1.
peak_of() {
    sed -n "s/^$1: .*: peak \\([0-9]*\\) .*/\\1/p" <<<"$output"
}

# check_run N LIMIT CAPACITY W PHASES: the invariants of a run without the
# break, for those flags.
check_run() {
    local n=$1 limit=$2 capacity=$3 w=$4 phases=$5 p
    assert_success
    assert_no_stderr
    assert_line --regexp "^channel semaphore: $n jobs, at most $limit at once: peak [0-9]+ holding, $n done\$"
    p=$(peak_of "channel semaphore")
    [ "$p" -ge 1 ] && [ "$p" -le "$limit" ] || { echo "channel semaphore: peak $p, limit $limit"; return 1; }
    assert_line --regexp "^weighted semaphore: $n jobs of 1..4 units, $capacity units: peak [0-9]+ held, $n done\$"
    p=$(peak_of "weighted semaphore")
    [ "$p" -ge 1 ] && [ "$p" -le "$capacity" ] || { echo "weighted semaphore: peak $p, $capacity units"; return 1; }
    assert_line "weighted semaphore: one unit free, a job of $capacity queued first: TryAcquire(1) false"
    assert_line "weighted semaphore: Acquire(1) for 10ms: context deadline exceeded"
    assert_line "weighted semaphore: granted in turn: the job of $capacity, then 3 jobs of 1 queued after it"
    assert_line "barrier: $w goroutines, $phases phases: every goroutine finished each phase before any began the next"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

# bats test_tags=practice
@test "patterns/semaphore-barrier: default: within every limit, the queue in turn, the phases apart, nothing left running" {
    run_bounded 30 "$BIN/patterns/semaphore-barrier"
    check_run 20 3 10 4 20
}

@test "patterns/semaphore-barrier: other limits, sizes and phases: the same invariants" {
    local args n limit capacity w phases
    for args in "20 1 4 2 2" "100 7 13 8 50" "5 10 1000 64 5" "200 3 10 3 200"; do
        read -r n limit capacity w phases <<<"$args"
        run_bounded 60 "$BIN/patterns/semaphore-barrier" -n "$n" --limit "$limit" --capacity "$capacity" \
            -w "$w" --phases "$phases" --work 1ms
        check_run "$n" "$limit" "$capacity" "$w" "$phases"
    done
}

@test "patterns/semaphore-barrier: --work 0: no time to overlap by accident, still within the limits and in phase" {
    run_bounded 30 "$BIN/patterns/semaphore-barrier" -n 1000 --work 0 --phases 500 -w 8
    check_run 1000 3 10 8 500
}

@test "patterns/semaphore-barrier: --break: the barrier without a generation lets a goroutine run ahead, and the check says so" {
    local w i
    for w in 2 4 16; do
        for i in 1 2; do
            run_bounded 30 "$BIN/patterns/semaphore-barrier" --break -w "$w"
            assert_failure 1
            assert_no_stderr
            # The first phase is right (the count reaches n once); from the
            # second on, every boundary may be crossed early.
            assert_line --regexp "^barrier \\(no generation\\): $w goroutines, 20 phases: OVERLAP at [0-9]+ of 19 phase boundaries: phase [0-9]+ began before phase [0-9]+ ended\$"
            refute_line --partial "every goroutine finished each phase"
            [[ "$output" =~ phase\ ([0-9]+)\ began\ before\ phase\ ([0-9]+)\ ended ]]
            [ "${BASH_REMATCH[2]}" -ge 2 ] || { echo "phase 1 overlapped phase 2"; return 1; }
            assert_line "weighted semaphore: granted in turn: the job of 10, then 3 jobs of 1 queued after it"
            assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
        done
    done
}

@test "patterns/semaphore-barrier: --break=false and --break=no-generation" {
    run_bounded 30 "$BIN/patterns/semaphore-barrier" --break=false
    check_run 20 3 10 4 20
    run_bounded 30 "$BIN/patterns/semaphore-barrier" --break=no-generation
    assert_failure 1
    assert_line --partial "OVERLAP"
}

@test "patterns/semaphore-barrier: the race detector finds nothing, with and without the break" {
    run_bounded 60 "$TSAN_BIN/patterns/semaphore-barrier" -n 50 --phases 30
    check_run 50 3 10 4 30
    run_bounded 60 "$TSAN_BIN/patterns/semaphore-barrier" --break
    assert_failure 1 # the program's check, not a race report (66)
    assert_no_stderr
}

@test "patterns/semaphore-barrier: the weighted semaphore, case by case (tests/test_semaphore.c)" {
    c_only "the C test program of semaphore.h"
    # Built by the Makefile's rule for tests/test_*.c (make, make test), here
    # too when only this lesson's tests run; the Makefile passes its variant.
    make -s -C "$TOP" --no-print-directory "${TESTBIN#"$TOP"/}/test_semaphore"
    run_cases test_semaphore
}

@test "patterns/semaphore-barrier: releasing more than held panics, as x/sync's does" {
    c_only "the C test program of semaphore.h"
    make -s -C "$TOP" --no-print-directory "${TESTBIN#"$TOP"/}/test_semaphore"
    expect_panic test_semaphore releasing_more_than_held_panics "semaphore: released more than held"
}

@test "patterns/semaphore-barrier: valgrind: no errors, nothing definitely lost" {
    c_only "valgrind runs the C binary"
    [ -z "${SAN:-}" ] || skip "valgrind runs the release build"
    run_bounded 120 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        "$BIN/patterns/semaphore-barrier" -n 10 --phases 5
    assert_success
}

@test "patterns/semaphore-barrier: bad flags and values: exit 2, the error and the usage on stderr" {
    assert_bad_flags patterns/semaphore-barrier "-n 0" "-n 10001" "--limit 0" "--capacity 3" \
        "--capacity 1001" "-w 1" "-w 65" "--phases 1" "--phases 1001" "--work -1ms" "--work x" \
        "--break=oops" "-x"
}

@test "patterns/semaphore-barrier: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/semaphore-barrier
}
