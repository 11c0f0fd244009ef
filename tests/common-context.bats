#!/usr/bin/env bats
# Contexts (common/context.h): tests/test_context.c, case by case.
load test_helper
load common_helper

@test "context: every normal case passes (cancel, deadlines, values, signals, stress)" {
    run_cases test_context
}

@test "context: stopping a signal context restores SIGINT's default action" {
    run_bounded 30 "$TESTBIN/test_context" signal_context_stop_restores_default_action
    assert_output "stopped"
    [ "$status" -eq 130 ] # killed by the second SIGINT, as a second Ctrl+C
}
