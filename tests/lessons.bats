#!/usr/bin/env bats
# What every lesson of the path (NN-name/) and the lab (patterns/NAME/) keeps:
# its files, a README in the lesson template that quotes main.go and main.c
# rather than retyping them, a Go twin that gofmt and go vet accept, and a
# practice mode whose unfilled file builds and fails the lesson's tests.
load test_helper

lessons() {
    (cd "$TOP" && for d in [0-9][0-9]-*/ patterns/*/; do [ -f "$d/main.c" ] && echo "${d%/}"; done)
}

@test "lessons: each has main.c, main.go, README.md and tests/LESSON.bats" {
    local l
    for l in $(lessons); do
        for f in "$l/main.c" "$l/main.go" "$l/README.md" "tests/$l.bats"; do
            [ -f "$TOP/$f" ] || { echo "missing: $f"; return 1; }
        done
    done
}

@test "lessons: each README is in the template, in order, with a Next line" {
    local l h at prev
    for l in $(lessons); do
        prev=0
        for h in "## The Go" "## The C" "## Run it" "## Sample output" "## Break it" "## Experiments" \
            "## Further reading"; do
            at=$(grep -n -m1 -Fx -- "$h" "$TOP/$l/README.md" | cut -d: -f1)
            [ -n "$at" ] && [ "$at" -gt "$prev" ] || { echo "$l/README.md: no '$h' after line $prev"; return 1; }
            prev=$at
        done
        grep -q '^Next: ' "$TOP/$l/README.md" || { echo "$l/README.md: no 'Next: ' line"; return 1; }
        grep -q '<details>' "$TOP/$l/README.md" || { echo "$l/README.md: no answer in <details>"; return 1; }
    done
}

@test "lessons: every Go block of a README is in main.go, every C block in main.c" {
    local l bad=0
    for l in $(lessons); do
        "$TOP/tests/quoted.py" "$TOP/$l/README.md" "$TOP/$l/main.go" go || bad=1
        "$TOP/tests/quoted.py" "$TOP/$l/README.md" "$TOP/$l/main.c" c || bad=1
    done
    [ "$bad" -eq 0 ]
}

@test "lessons: the Go twins are gofmt-clean and go vet finds nothing" {
    command -v go >/dev/null 2>&1 || skip "no Go toolchain"
    cd "$TOP"
    run gofmt -l $(lessons)
    assert_success
    assert_output ""
    local l
    for l in $(lessons); do
        # One file at a time: go refuses a package directory that holds C files.
        run env GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$TOP/build/go/cache" go vet "./$l/main.go"
        assert_success
    done
}

@test "lessons: nothing is used before it is taught: no context before 08" {
    local l
    for l in 01-goroutines 02-channels 03-select 04-sync 05-worker-pool 06-fan-in-out 07-pipeline; do
        [ -f "$TOP/$l/main.c" ] || continue
        ! grep -n 'ctx_\|common/context.h' "$TOP/$l/main.c" || { echo "$l/main.c uses context"; return 1; }
        ! grep -n '"context"' "$TOP/$l/main.go" || { echo "$l/main.go uses context"; return 1; }
    done
}

@test "lessons: practice files: filled, each is main.c again; unfilled, it builds and fails its tests" {
    [ -z "${SAN:-}" ] || skip "the practice files are checked on the release build"
    [ -n "${PRACTICE_CC:-}" ] || skip "run through make (it passes the compiler and flags)"
    local l n
    for l in $(lessons); do
        n=$("$TOP/tests/practice.sh" count "$TOP/$l/main.c")
        [ "$n" -ge 1 ] || { echo "$l/main.c marks no practice region"; return 1; }
        mkdir -p "$BATS_TEST_TMPDIR/src/$l" "$BATS_TEST_TMPDIR/bin/$(dirname "$l")"
        "$TOP/tests/practice.sh" make "$TOP/$l/main.c" >"$BATS_TEST_TMPDIR/src/$l/practice.c"
        [ "$(grep -c 'TODO: ' "$BATS_TEST_TMPDIR/src/$l/practice.c")" -eq "$n" ]
        run "$TOP/tests/practice.sh" fill "$BATS_TEST_TMPDIR/src/$l/practice.c" "$TOP/$l/main.c"
        assert_success
        [ "$output" = "$(cat "$TOP/$l/main.c")" ] || { echo "$l: filled practice is not main.c"; return 1; }
        # shellcheck disable=SC2086 # PRACTICE_CC is a command line
        $PRACTICE_CC -I"$TOP" "$BATS_TEST_TMPDIR/src/$l/practice.c" "$LIBCOMMON" \
            -o "$BATS_TEST_TMPDIR/bin/$l" $LDLIBS 2>/dev/null ||
            { echo "$l: the unfilled practice file does not build"; return 1; }
        run env BIN="$BATS_TEST_TMPDIR/bin" TSAN_BIN="$BATS_TEST_TMPDIR/bin" IMPL=c \
            bats --filter-tags practice "$TOP/tests/$l.bats"
        [ "$status" -ne 0 ] || { echo "$l: the unfilled practice passes its tests:"; echo "$output"; return 1; }
        grep -q '^not ok' <<<"$output" || { echo "$l: no test ran:"; echo "$output"; return 1; }
    done
}

@test "lessons: the leak check (GOLEAK=1) finds nothing when a lesson's default run returns" {
    c_only "GOLEAK=1 is common/'s leak check"
    [ -z "${SAN:-}" ] || skip "checked on the release build"
    # 09 and 10 run until Ctrl+C by default: a bounded run ends them the same way.
    declare -A args=([09-graceful-shutdown]="--duration 1500ms" [10-mini-project]="--duration 1500ms")
    local l bad=0
    for l in $(lessons); do
        # shellcheck disable=SC2086 # the arguments are words on purpose
        GOLEAK=1 run_bounded 60 "$BIN/$l" ${args[$l]:-}
        if [ "$status" -ne 0 ] || grep -q '^leak: ' <<<"$stderr"; then
            echo "$l: status $status; stderr: $stderr"
            bad=1
        fi
    done
    [ "$bad" -eq 0 ]
}
