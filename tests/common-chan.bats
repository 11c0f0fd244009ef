#!/usr/bin/env bats
# Channels (common/chan.h): tests/test_chan.c, case by case.
load test_helper
load common_helper

@test "chan: every normal case passes (nil/open/closed rows, order, memory model, stress)" {
    run_cases test_chan
}

@test "chan: close of a nil channel panics" {
    expect_panic test_chan close_of_nil_channel_panics "close of nil channel"
}

@test "chan: send on a closed channel panics" {
    expect_panic test_chan send_on_closed_channel_panics "send on closed channel"
}

@test "chan: close of a closed channel panics" {
    expect_panic test_chan close_of_closed_channel_panics "close of closed channel"
}

@test "chan: a sender blocked when the channel is closed panics" {
    expect_panic test_chan blocked_sender_panics_when_channel_closed "send on closed channel"
}
