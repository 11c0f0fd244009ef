#!/usr/bin/env bats
# or_done (common/stream.h): tests/test_stream.c.
load test_helper
load common_helper

@test "stream: every normal case passes (or_done: order, and done wherever it waits)" {
    run_cases test_stream
}
