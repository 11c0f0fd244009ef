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

@test "context: stop() in a program started with SIGINT ignored (a background job) keeps it ignored" {
    # The shell's trap '' ignores SIGINT, and exec hands that on, as a shell starting `prog &`.
    run_bounded 30 bash -c 'trap "" INT; exec "$0" signal_context_stop_restores_the_disposition_it_found' \
        "$TESTBIN/test_context"
    printf 'status %s, stdout:\n%s\nstderr:\n%s\n' "$status" "$output" "$stderr" >&2
    assert_success
    assert_line "survived"
    assert_line "ok signal_context_stop_restores_the_disposition_it_found"
    assert_no_stderr
}
