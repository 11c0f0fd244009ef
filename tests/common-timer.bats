#!/usr/bin/env bats
# Timers, tickers and durations (common/timer.h): tests/test_timer.c.
load test_helper
load common_helper

@test "timer: every normal case passes (after, stop, reset, tickers, parse, stress)" {
    run_cases test_timer
}
