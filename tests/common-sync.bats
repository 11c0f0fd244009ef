#!/usr/bin/env bats
# WaitGroup and Once (common/sync.h): tests/test_sync.c, case by case.
load test_helper
load common_helper

@test "sync: every normal case passes (WaitGroup, Once)" {
    run_cases test_sync
}

@test "sync: wg_done below zero panics" {
    expect_panic test_sync negative_waitgroup_counter_panics "sync: negative WaitGroup counter"
}

@test "sync: wg_add below zero panics" {
    expect_panic test_sync wg_add_below_zero_panics "sync: negative WaitGroup counter"
}
