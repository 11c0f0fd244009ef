#!/usr/bin/env bats
# How a panic ends the process (tests/test_panic.c): as Go's, and the panic
# wins over main's return or stays silent.
load test_helper
load common_helper

@test "panic: in a goroutine: the message, goroutine N [running]:, status 2" {
    expect_panic test_panic panic_in_a_goroutine "send on closed channel"
    [[ "$stderr" =~ goroutine\ ([0-9]+)\ \[running\] ]]
    [ "${BASH_REMATCH[1]}" -gt 1 ] # not main's
}

@test "panic: GOTRACEBACK=crash aborts instead, for a core dump" {
    GOTRACEBACK=crash run_bounded 30 "$TESTBIN/test_panic" panic_in_a_goroutine
    [ "${stderr%%$'\n'*}" = "panic: send on closed channel" ]
    [ "$status" -eq 134 ]
}

@test "panic: racing main's return, 200 times: status 2 with the message, or 0 without; never both" {
    local i won=0
    for i in $(seq 1 200); do
        run_bounded 30 "$TESTBIN/test_panic" panic_while_main_returns
        if [[ "$stderr" == "panic: send on closed channel"* ]]; then
            [ "$status" -eq 2 ] || { echo "run $i: the panic's message, then status $status"; return 1; }
            won=$((won + 1))
        else
            [ "$status" -eq 0 ] && [ -z "$stderr" ] || { echo "run $i: status $status, stderr $stderr"; return 1; }
        fi
    done
    echo "# the panic won $won of 200" >&3
}
