# Loaded after test_helper by the Bats files of common/ (common-*.bats): they run
# the C test programs of tests/test_*.c, built in $TESTBIN (see tests/testlib.h).

# run_cases PROG [SECONDS]: runs every normal case of PROG: each must pass, and
# stderr stay empty (a sanitizer report lands there).
run_cases() {
    run_bounded "${2:-120}" "$TESTBIN/$1"
    [ "$status" -eq 0 ] || printf 'stderr:\n%s\n' "$stderr" >&2
    assert_success
    assert_line --regexp '^[0-9]+ passed, 0 failed$'
    assert_no_stderr
}

# expect_panic PROG CASE MESSAGE: the case ends the process as a Go panic
# does: the message as the first line of stderr, then "goroutine N
# [running]:", and status 2.
expect_panic() {
    run_bounded 30 "$TESTBIN/$1" "$2"
    printf 'status %s, stdout:\n%s\nstderr:\n%s\n' "$status" "$output" "$stderr" >&2
    [ "${stderr%%$'\n'*}" = "panic: $3" ]
    [[ "$stderr" =~ $'\n'goroutine\ [0-9?]+\ \[running\]: ]]
    [ "$status" -eq 2 ]
}

# expect_deadlock PROG CASE: the case ends the process with Go's deadlock
# report and status 2.
expect_deadlock() {
    run_bounded 30 "$TESTBIN/$1" "$2"
    printf 'status %s, stdout:\n%s\nstderr:\n%s\n' "$status" "$output" "$stderr" >&2
    [[ "$stderr" == "fatal error: all goroutines are asleep - deadlock!"* ]]
    [ "$status" -eq 2 ]
}

# expect_fatal PROG CASE MESSAGE: the case ends the process with Go's fatal
# error, "fatal error: MESSAGE", as the first line of stderr, and status 2.
expect_fatal() {
    run_bounded 30 "$TESTBIN/$1" "$2"
    printf 'status %s, stdout:\n%s\nstderr:\n%s\n' "$status" "$output" "$stderr" >&2
    [ "${stderr%%$'\n'*}" = "fatal error: $3" ]
    [ "$status" -eq 2 ]
}
