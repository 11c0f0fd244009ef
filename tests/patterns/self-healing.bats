#!/usr/bin/env bats
# patterns/self-healing: every item is done exactly once, in order, across
# restarts; each ward starts on the first item not yet done, a ward that
# stalls is restarted and the next one does the item it was stuck on; at
# least (n-1)/K restarts when each ward stalls after K items; the steward that
# does not watch the heartbeat leaves the work stopped, with items missing;
# nothing is left running.
load ../test_helper

# healed N [unwatched]: the last run's lines tell of the work's items 1..N,
# each done exactly once, in order, and of wards that each went on where the
# work was: ward j started on the first item no earlier ward had done; a ward
# that stalled on item k after K items did exactly K, and (unless unwatched)
# was restarted, and a later ward did item k.
healed() {
    # awk, not Python: starting Python costs half a second a test here.
    awk -v n="$1" -v watched="$([ "${2:-}" = unwatched ] && echo 0 || echo 1)" '
    function fail(msg, i) {
        print msg
        for (i = 1; i <= NR; i++) print line[i]
        exit 1
    }
    { line[NR] = $0 }
    /^item [0-9]+ done by ward [0-9]+$/ { d++; item[d] = $2 + 0; by[$2 + 0] = $6 + 0 }
    /^steward: ward [0-9]+ starts at item [0-9]+$/ { s++; start_ward[s] = $3 + 0; start_item[s] = $7 + 0 }
    /^ward [0-9]+: stalls on item [0-9]+ \(it did [0-9]+\)$/ {
        t++; stall_ward[t] = $2 + 0; stall_item[t] = $6 + 0; stall_did[t] = $9 + 0
    }
    /^steward: no beat from ward [0-9]+ for .+: restarting it$/ { restarted[$6 + 0] = 1 }
    END {
        for (i = 1; i <= d; i++) {
            order = order " " item[i]
            if (item[i] != i) bad = 1
        }
        if (bad) fail("items not 1.." d " in order, each once:" order)
        for (k = 2; k <= d; k++)
            if (by[k] < by[k - 1]) fail("a ward did an item after a later ward")
        for (i = 1; i <= s; i++) {
            j = start_ward[i]; k = start_item[i]
            if (k > 1 && !((k - 1) in by && by[k - 1] < j))
                fail("ward " j " started at item " k ", but item " k - 1 " was done by ward " by[k - 1])
            if (k in by && by[k] < j) fail("ward " j " started at item " k ", already done by ward " by[k])
        }
        for (i = 1; i <= t; i++) {
            j = stall_ward[i]; k = stall_item[i]; did = 0
            for (x in by) if (by[x] == j) did++
            if (did != stall_did[i]) fail("ward " j " says it did " stall_did[i] " items")
            if (watched && !(k in by && by[k] > j)) fail("ward " j " stalled on item " k ", which no later ward did")
            if (watched && !(j in restarted)) fail("ward " j " stalled and was not restarted")
        }
        if (d != n) fail(d " items done, not " n)
    }' <<<"$output"
}

# restarts: how many restarts the summary counts (wards started less one).
restarts() {
    sed -n 's/^summary: .*; wards started: \([0-9]*\), restarts: \([0-9]*\)$/\2/p' <<<"$output"
}

# bats test_tags=practice
@test "patterns/self-healing: default: items 1..20 each done once across restarts, 2 restarts at least" {
    # The defaults, slowed down under a sanitizer, as everything is there.
    run_bounded 30 "$BIN/patterns/self-healing" --work $((20 * TIME_SCALE))ms \
        --timeout $((200 * TIME_SCALE))ms --duration $((3 * TIME_SCALE))s
    assert_success
    assert_no_stderr
    assert_line --regexp '^self-healing: 20 items of [0-9]+ms; a ward silent for [0-9.]+m?s is restarted; each ward stalls once it has done 7$'
    assert_line "steward: ward 1 starts at item 1"
    healed 20
    assert_line "ward 1: stalls on item 8 (it did 7)"
    refute_line --partial "is over: closing done"
    assert_line --regexp '^steward: ward [0-9]+ finished the work$'
    assert_line --regexp '^summary: 20 of 20 items done, 0 missing, each exactly once, in order; wards started: [0-9]+, restarts: [0-9]+$'
    # Each ward does 7 items at most: 3 wards at least for 20.
    [ "$(restarts)" -ge 2 ] || { echo "$(restarts) restarts for 20 items, 7 a ward"; return 1; }
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/self-healing: --stall-every 1: every ward does one item, the next does the one it was stuck on" {
    run_bounded 30 "$BIN/patterns/self-healing" -n 5 --work 0 --stall-every 1 \
        --timeout $((100 * TIME_SCALE))ms
    assert_success
    assert_no_stderr
    healed 5
    for j in 1 2 3 4; do
        assert_line "ward $j: stalls on item $((j + 1)) (it did 1)"
    done
    assert_line --regexp '^summary: 5 of 5 items done, 0 missing, each exactly once, in order; wards started: [0-9]+, restarts: [0-9]+$'
    [ "$(restarts)" -ge 4 ]
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/self-healing: -n 200 --stall-every 13: many restarts, still each item exactly once" {
    run_bounded 60 "$BIN/patterns/self-healing" -n 200 --work 1ms --stall-every 13 \
        --timeout $((40 * TIME_SCALE))ms --duration $((15 * TIME_SCALE))s
    assert_success
    assert_no_stderr
    healed 200
    assert_line --regexp '^summary: 200 of 200 items done, 0 missing, each exactly once, in order; wards started: [0-9]+, restarts: [0-9]+$'
    [ "$(restarts)" -ge $((199 / 13)) ] || { echo "$(restarts) restarts"; return 1; }
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/self-healing: --stall-every 0: one ward does all the work" {
    run_bounded 30 "$BIN/patterns/self-healing" -n 30 --work 5ms --stall-every 0 \
        --timeout $((1000 * TIME_SCALE))ms
    assert_success
    assert_no_stderr
    assert_line --partial "no ward stalls"
    healed 30
    refute_line --partial "restarting it"
    assert_line "steward: ward 1 finished the work"
    assert_line "summary: 30 of 30 items done, 0 missing, each exactly once, in order; wards started: 1, restarts: 0"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/self-healing: --break: the stalled ward is never restarted, and --duration ends the run with items missing" {
    local b
    for b in --break --break=no-watch; do
        run_bounded 20 "$BIN/patterns/self-healing" "$b" --duration $((1 * TIME_SCALE))s
        assert_success
        assert_no_stderr
        healed 7 unwatched
        assert_line "ward 1: stalls on item 8 (it did 7)"
        refute_line --partial "restarting it"
        assert_line --regexp '^main: --duration [0-9]+s is over: closing done$'
        assert_line "summary: 7 of 20 items done, 13 missing, each exactly once, in order; wards started: 1, restarts: 0"
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/self-healing: --duration stops a healthy run too, and nothing is left running" {
    run_bounded 20 "$BIN/patterns/self-healing" -n 10000 --work 1ms --stall-every 0 \
        --timeout $((1000 * TIME_SCALE))ms --duration 300ms
    assert_success
    assert_no_stderr
    assert_line "main: --duration 300ms is over: closing done"
    assert_line --regexp '^summary: [0-9]+ of 10000 items done, [0-9]+ missing, each exactly once, in order; wards started: 1, restarts: 0$'
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/self-healing: the race detector finds nothing, across restarts or in the break" {
    local args
    for args in "-n 12 --work 5ms --stall-every 4" "-n 30 --work 0 --stall-every 3 --timeout 20ms" \
        "--break -n 6 --work 5ms --stall-every 3 --duration 1s"; do
        # shellcheck disable=SC2086
        run_bounded 60 "$TSAN_BIN/patterns/self-healing" $args
        assert_success
        assert_no_stderr
        assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
    done
}

@test "patterns/self-healing: valgrind: no errors, nothing definitely lost" {
    c_only "valgrind runs the C binary"
    [ -z "${SAN:-}" ] || skip "valgrind runs the release build"
    run_bounded 60 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        "$BIN/patterns/self-healing" -n 9 --work 5ms --stall-every 4 --timeout 400ms
    assert_success
    healed 9
    assert_line --regexp '^summary: 9 of 9 items done, 0 missing, each exactly once, in order; wards started: [0-9]+, restarts: [0-9]+$'
    [ "$(restarts)" -ge 2 ]
}

@test "patterns/self-healing: bad flags and values: exit 2, the error and the usage on stderr" {
    assert_bad_flags patterns/self-healing "-n 0" "-n 10001" "--stall-every -1" "--timeout 1ms" \
        "--timeout 11s" "--work -1ms" "--duration 61s" "--duration x" "--break=oops" "-x"
}

@test "patterns/self-healing: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/self-healing
}
