#!/usr/bin/env bats
# The leak check (common/go.h: go_leaks, GOLEAK=1): tests/test_leaks.c.
load test_helper
load common_helper

@test "leaks: every normal case passes (nothing reported once every goroutine returned, even late)" {
    run_cases test_leaks
}

@test "leaks: go_leaks names the goroutine still blocked, with the function it started in" {
    run_bounded 30 "$TESTBIN/test_leaks" names_a_goroutine_blocked_forever
    assert_success
    [[ "$stderr" =~ ^leak:\ goroutine\ [0-9]+\ \[blocked\],\ started\ in\ recv_forever$ ]] ||
        { echo "stderr: $stderr"; return 1; }
}

@test "leaks: GOLEAK=1: main returning with a goroutine blocked ends with status 3 and the list" {
    GOLEAK=1 run_bounded 30 "$TESTBIN/test_leaks" exit_with_a_leak
    assert_equal "$status" 3
    assert_equal "${stderr_lines[0]}" "$(grep '^leak: goroutine ' <<<"$stderr" | head -n 1)"
    [[ "$stderr" == *"started in recv_forever"* ]]
    [[ "$stderr" == *"leak: 1 goroutine still running when main returned"* ]]
}

@test "leaks: GOLEAK=1: main returning after its goroutines: status 0, nothing on stderr" {
    GOLEAK=1 run_bounded 30 "$TESTBIN/test_leaks" exit_without_a_leak
    assert_success
    assert_no_stderr
}

@test "leaks: without GOLEAK, a leak at exit is the program's own business: status 0" {
    run_bounded 30 "$TESTBIN/test_leaks" exit_with_a_leak
    assert_success
    assert_no_stderr
}
