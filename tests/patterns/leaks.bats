#!/usr/bin/env bats
# patterns/leaks: with every fix in, nothing is left running at the end (and
# GOLEAK=1 agrees); each of the three leaks left unfixed is found, and in C
# named with the function its goroutines started in.
load ../test_helper

# bats test_tags=practice
@test "patterns/leaks: default: the three fixed, nothing left running" {
    run_bounded 20 "$BIN/patterns/leaks"
    assert_success
    assert_no_stderr
    assert_line --regexp '^blocked send: the first of 3 answers came from replica [123]$'
    assert_line "range without close: 5 jobs done"
    assert_line "forgotten ticker: 3 ticks served"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/leaks: default with GOLEAK=1: the check at exit finds nothing" {
    c_only "GOLEAK=1 is common/'s leak check"
    GOLEAK=1 run_bounded 20 "$BIN/patterns/leaks"
    assert_success
    assert_no_stderr
}

# leak_found MODE COUNT FUNCTION [STATE]: --break=MODE leaves COUNT goroutines,
# which C's check names as started in FUNCTION, in STATE (a regex; blocked
# unless told).
leak_found() {
    run_bounded 20 "$BIN/patterns/leaks" --break="$1"
    assert_success
    assert_equal "${lines[-1]}" "goroutines at the end: $(($2 + 1)) (main and $2 leaked)"
    if [ "$IMPL" = c ]; then
        assert_equal "$(grep -Ec "^leak: goroutine [0-9]+ \[(${4:-blocked})\], started in $3\$" <<<"$stderr")" "$2"
        assert_equal "${#stderr_lines[@]}" "$2"
    fi
}

@test "patterns/leaks: --break=send: the two replicas that lost are blocked on their send" {
    leak_found send 2 answer
}

@test "patterns/leaks: --break alone means --break=send" {
    run_bounded 20 "$BIN/patterns/leaks" --break
    assert_equal "${lines[-1]}" "goroutines at the end: 3 (main and 2 leaked)"
}

@test "patterns/leaks: --break=range: the worker waits for a job that never comes" {
    leak_found range 1 worker
}

@test "patterns/leaks: --break=ticker: the goroutine of a forgotten ticker serves it forever" {
    # It wakes at every tick: the check may catch it blocked on the ticker's
    # channel or running between two ticks (a loaded CI caught it running).
    leak_found ticker 1 tick_forever 'blocked|running'
}

@test "patterns/leaks: a leak with GOLEAK=1: status 3 at exit, after the list" {
    c_only "GOLEAK=1 is common/'s leak check"
    GOLEAK=1 run_bounded 20 "$BIN/patterns/leaks" --break=range
    assert_equal "$status" 3
    [[ "$stderr" == *"leak: 1 goroutine still running when main returned"* ]]
}

@test "patterns/leaks: valgrind: no errors, nothing definitely lost" {
    c_only "valgrind runs the C binary"
    [ -z "${SAN:-}" ] || skip "valgrind runs the release build"
    run_bounded 60 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        "$BIN/patterns/leaks"
    assert_success
}

@test "patterns/leaks: bad flags and values: exit 2, the error and the usage on stderr" {
    assert_bad_flags patterns/leaks "--break=oops" "-x" "-n 3"
}

@test "patterns/leaks: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/leaks
}
