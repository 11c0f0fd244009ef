#!/usr/bin/env bats
# errgroup (common/errgroup.h): tests/test_errgroup.c, case by case.
load test_helper
load common_helper

@test "errgroup: every normal case passes (first error, context, limit, try_go)" {
    run_cases test_errgroup
}

@test "errgroup: changing the limit while goroutines are active panics" {
    expect_panic test_errgroup set_limit_while_active_panics \
        "errgroup: modify limit while 1 goroutines in the group are still active"
}
