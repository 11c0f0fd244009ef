#!/usr/bin/env bats
# select (common/select.h): tests/test_select.c, case by case.
load test_helper
load common_helper

@test "select: every normal case passes (nil cases, fairness, default, closed, wake-ups, stress)" {
    run_cases test_select
}

@test "select: an empty select blocks forever (deadlock report)" {
    expect_deadlock test_select empty_select_blocks_forever
}

@test "select: a select of nil cases only blocks forever (deadlock report)" {
    expect_deadlock test_select select_of_nil_cases_blocks_forever
}

@test "select: a send case on a closed channel panics when chosen" {
    expect_panic test_select send_case_on_closed_channel_panics_when_chosen "send on closed channel"
}

@test "select: a send case on a closed channel panics with a default too" {
    expect_panic test_select send_case_on_closed_channel_panics_with_default "send on closed channel"
}

@test "select: a blocked select with a send case panics when its channel is closed" {
    expect_panic test_select blocked_select_send_panics_when_channel_closed "send on closed channel"
}
