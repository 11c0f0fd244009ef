#!/usr/bin/env bats
# Timers, tickers and durations (common/timer.h): tests/test_timer.c.
load test_helper
load common_helper

@test "timer: every normal case passes (after, stop, reset, tickers, parse, stress)" {
    run_cases test_timer
    # Shown in the TAP output: 1,000,000 time_after(1h) freed before they fire cost nothing.
    local mem
    mem=$(grep '^memory:' <<<"$output")
    [ -n "$mem" ]
    echo "# $mem" >&3
}

@test "timer: deadlock: reported after Reset and Stop raced from many goroutines" {
    expect_deadlock test_timer deadlock_reported_after_resets_and_stops_raced
}

@test "timer: deadlock: reported after time_after channels were freed before firing" {
    expect_deadlock test_timer deadlock_reported_after_time_after_freed_before_firing
}
