#!/usr/bin/env bats
# The runtime's own checks (common/internal/): tests/test_runtime.c. Each
# broken state ends the process with "fatal error: ..." and status 2, in
# every build, as Go's throw does.
load test_helper
load common_helper

@test "runtime: every normal case passes (rt_mutex, park and ready, wakers)" {
    run_cases test_runtime
}

@test "runtime: unlocking a lock that is not held is fatal" {
    expect_fatal test_runtime unlock_of_unlocked_lock_is_fatal "unlock of unlocked lock"
}

@test "runtime: readying a goroutine twice is fatal" {
    expect_fatal test_runtime g_ready_twice_is_fatal "sched: g_ready of a goroutine already readied"
}

@test "runtime: a waker count below zero is fatal" {
    expect_fatal test_runtime waker_count_below_zero_is_fatal "sched: wakers below zero"
}

@test "runtime: a waiter queued twice is fatal" {
    expect_fatal test_runtime waiter_queued_twice_is_fatal "chan: a waiter queued twice"
}

@test "runtime: removing a waiter that is not queued is fatal" {
    expect_fatal test_runtime removing_a_waiter_not_queued_is_fatal \
        "chan: removing a waiter that is not queued"
}

@test "runtime: a channel reference taken after the last one went is fatal" {
    expect_fatal test_runtime chan_ref_of_a_freed_channel_is_fatal "chan: chan_ref of a freed channel"
}

@test "runtime: a channel reference count below zero is fatal" {
    expect_fatal test_runtime chan_free_below_zero_is_fatal "chan: reference count below zero"
}

@test "runtime: a channel's ring slot out of sequence is fatal" {
    expect_fatal test_runtime ring_slot_out_of_sequence_is_fatal "chan: a ring slot out of sequence"
}

@test "runtime: a timer entry armed twice is fatal" {
    expect_fatal test_runtime timer_entry_armed_twice_is_fatal "timer: an entry armed twice"
}

@test "runtime: a receiver woken while its waiter is still queued is fatal" {
    expect_fatal test_runtime receiver_woken_while_still_queued_is_fatal \
        "chan: a receiver woken while still queued"
}

@test "runtime: a select woken with no case chosen is fatal" {
    expect_fatal test_runtime select_woken_with_no_case_chosen_is_fatal \
        "select: woken with no case chosen"
}

@test "runtime: wg_wait woken before the counter reached zero is fatal" {
    expect_fatal test_runtime wg_wait_woken_before_zero_is_fatal \
        "sync: wg_wait woken before the counter reached zero"
}
