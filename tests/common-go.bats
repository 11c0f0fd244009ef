#!/usr/bin/env bats
# Goroutines and the deadlock detector (common/go.h): tests/test_go.c.
load test_helper
load common_helper

@test "go: every normal case passes; 10,000 blocked goroutines released by one close" {
    run_cases test_go
    # Shown in the TAP output: what the blocked goroutines cost.
    local mem
    mem=$(grep '^memory:' <<<"$output")
    [ -n "$mem" ]
    echo "# $mem" >&3
}

@test "go: deadlock: main receives, no other goroutine" {
    expect_deadlock test_go deadlock_main_recv_with_no_other_goroutine
}

@test "go: deadlock: main sends on an unbuffered channel, no receiver" {
    expect_deadlock test_go deadlock_main_send_with_no_receiver
}

@test "go: deadlock: main blocked on a nil channel" {
    expect_deadlock test_go deadlock_main_blocked_on_nil_channel
}

@test "go: deadlock: main in wg_wait, every goroutine blocked on a channel" {
    expect_deadlock test_go deadlock_main_in_wg_wait_others_blocked_on_channel
}

@test "go: deadlock: the last goroutine exits while main waits forever" {
    expect_deadlock test_go deadlock_when_last_goroutine_exits
}

@test "go: deadlock: the last thread made with pthread_create exits while main waits forever" {
    expect_deadlock test_go deadlock_when_the_last_pthread_exits
}

@test "go: deadlock: reported once the only timer has fired" {
    expect_deadlock test_go deadlock_after_the_timer_fired
}

@test "go: deadlock: reported once the only ticker is stopped" {
    expect_deadlock test_go deadlock_after_the_ticker_stopped
}
