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
    cd "$TOP"
    # One awk over every README (a shell loop under Bats' trap costs seconds).
    # shellcheck disable=SC2046 # one word per lesson
    run awk '
        BEGIN { n = split("## The Go|## The C|## Run it|## Sample output|## Break it|## Experiments|" \
                          "## Further reading", head, "|") }
        function done_file() {
            if (at <= n) print file ": no \"" head[at] "\" in its place"
            if (!next_line) print file ": no \"Next: \" line"
            if (!details) print file ": no answer in <details>"
        }
        FNR == 1 { if (NR > 1) done_file(); file = FILENAME; at = 1; next_line = 0; details = 0 }
        at <= n && $0 == head[at] { at++ }
        /^Next: / { next_line = 1 }
        /<details>/ { details = 1 }
        END { done_file() }
    ' $(for l in $(lessons); do echo "$l/README.md"; done)
    assert_success
    assert_output ""
}

@test "lessons: every Go block of a README is in main.go, every C block in main.c" {
    cd "$TOP"
    # shellcheck disable=SC2046 # one word per lesson
    run tests/quoted.py $(lessons)
    assert_success
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
    local l n out=$BATS_TEST_TMPDIR
    for l in $(lessons); do
        n=$("$TOP/tests/practice.sh" count "$TOP/$l/main.c")
        [ "$n" -ge 1 ] || { echo "$l/main.c marks no practice region"; return 1; }
        mkdir -p "$out/src/$l" "$out/bin/$(dirname "$l")"
        "$TOP/tests/practice.sh" make "$TOP/$l/main.c" >"$out/src/$l/practice.c"
        [ "$(grep -c 'TODO: ' "$out/src/$l/practice.c")" -eq "$n" ]
        run "$TOP/tests/practice.sh" fill "$out/src/$l/practice.c" "$TOP/$l/main.c"
        assert_success
        [ "$output" = "$(cat "$TOP/$l/main.c")" ] || { echo "$l: filled practice is not main.c"; return 1; }
    done
    # The unfilled files build, one compiler per core (PRACTICE_CC, LIBCOMMON
    # and LDLIBS come from make's environment).
    # shellcheck disable=SC2016,SC2046 # expanded by sh; one word per lesson
    run xargs -P "$(nproc)" -n 1 sh -c '$PRACTICE_CC -I"$0" "$1/src/$2/practice.c" "$LIBCOMMON" \
        -o "$1/bin/$2" $LDLIBS 2>/dev/null || echo "$2: the unfilled practice file does not build"' \
        "$TOP" "$out" <<<"$(lessons)"
    assert_success
    assert_output ""
    # ...and fail their lessons' practice tests: one Bats run for all of them
    # (a run costs half a second before its first test), side by side where
    # GNU parallel is installed (an unfilled lesson may wait out a timeout).
    local jobs=()
    command -v parallel >/dev/null 2>&1 && jobs=(--jobs "$(nproc)")
    # shellcheck disable=SC2046 # one word per lesson
    run env BIN="$out/bin" TSAN_BIN="$out/bin" IMPL=c \
        bats "${jobs[@]}" --filter-tags practice $(for l in $(lessons); do echo "$TOP/tests/$l.bats"; done)
    [ "$status" -ne 0 ] || { echo "the unfilled practice files pass their tests:"; echo "$output"; return 1; }
    for l in $(lessons); do
        grep -q "^not ok [0-9]* $l: " <<<"$output" ||
            { echo "$l: the unfilled practice file fails no test:"; echo "$output"; return 1; }
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
