#!/usr/bin/env bats
# patterns/pool-and-map: a pool reuses what was put back (never more buffers
# than goroutines hold at once, for a pool that keeps them all), every get and
# put adds up, and nothing is found in use after its put; each map holds, for
# keys written once, exactly the keys the goroutines drew (the same in C and
# Go) with their values, and for disjoint keys counts that add up; nothing is
# left running; a buffer put back before its last use is caught by the pool's
# check (and by ASan in C). Times and throughputs are printed, never asserted.
load ../test_helper

# pool_row NAME: the allocated, reused and in-use columns of pool row NAME.
pool_row() {
    awk -v name="$1" 'index($0, name " ") == 1 { n = split(name, w, " "); print $(n + 2), $(n + 3), $(n + 4) }' <<<"$output"
}

# check_pool W N: the invariants of the three pool rows, W goroutines x N.
check_pool() {
    local w=$1 total=$(($1 * $2)) allocated reused in_use
    read -r allocated reused in_use <<<"$(pool_row "no pool")"
    assert_equal "$allocated $reused $in_use" "$total 0 0"
    for name in "shared list" "cache + list"; do
        read -r allocated reused in_use <<<"$(pool_row "$name")"
        assert_equal $((allocated + reused)) "$total"
        # Each goroutine holds one buffer at a time: a pool that keeps
        # everything put back never needs more than W. Go's sync.Pool may
        # drop what it holds at a garbage collection, and its race-detector
        # build drops one Put in four on purpose: most are still reused.
        if [ "$name" = "cache + list" ] && [ "$IMPL" = go ]; then
            [ "$reused" -ge $((total / 2)) ] || { echo "$name: reused $reused of $total"; return 1; }
        else
            [ "$allocated" -ge 1 ] && [ "$allocated" -le "$w" ] ||
                { echo "$name: allocated $allocated for $w goroutines"; return 1; }
        fi
    done
}

# check_maps TOTAL: the six map rows passed their checks; disjoint keys
# counted TOTAL in all; the closing lines.
check_maps() {
    local kind
    for kind in rwmutex sharded sync.Map; do
        assert_line --regexp "^write once +$kind +[0-9.]+ +ok: [0-9]+ keys, each with its value$"
        assert_line --regexp "^disjoint keys +$kind +[0-9.]+ +ok: the counts add up to $1$"
    done
    assert_equal "$(grep -c ' ok: ' <<<"$output")" 6
    assert_line "main: every buffer and every key checked"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

# bats test_tags=practice
@test "patterns/pool-and-map: default: the pools reuse, every map checks out, nothing left running" {
    args=() n=50000
    if [ -n "${SAN:-}" ]; then # the sanitizers' malloc is slow: a smaller run
        args=(-n 2000) n=2000
    fi
    run_bounded 60 "$BIN/patterns/pool-and-map" "${args[@]}"
    assert_success
    assert_no_stderr
    assert_line "sync.Pool: 4 goroutines x $n gets and puts, 4096-byte buffers"
    assert_line "sync.Map: 4 goroutines x $n loads and stores, 1000 keys"
    check_pool 4 "$n"
    # 4 x n draws of 1000 keys leave none out: every map holds all of them.
    assert_equal "$(grep -c 'ok: 1000 keys, each with its value' <<<"$output")" 3
    check_maps $((4 * n))
}

@test "patterns/pool-and-map: other goroutines, sizes, keys and shards: every row adds up" {
    for args in "-w 1 -n 1000" "-w 7 -n 3000 --keys 50 --shards 3 --size 100" \
        "-w 64 -n 100 --keys 64 --shards 1024 --size 64"; do
        # shellcheck disable=SC2086
        run_bounded 60 "$BIN/patterns/pool-and-map" $args
        assert_success
        assert_no_stderr
        read -r w n <<<"$(sed 's/-w \([0-9]*\) -n \([0-9]*\).*/\1 \2/' <<<"$args")"
        check_pool "$w" "$n"
        check_maps $((w * n))
    done
}

@test "patterns/pool-and-map: keys written once: exactly the keys the goroutines drew, the same in C and Go" {
    # 80,000 draws of 100,000 keys (splitmix64, a stream per goroutine, as in
    # main.go and main.c) hit 55,247 distinct keys.
    run_bounded 60 "$BIN/patterns/pool-and-map" -n 20000 --keys 100000
    assert_success
    assert_equal "$(grep -c 'ok: 55247 keys, each with its value' <<<"$output")" 3
    check_maps 80000
}

@test "patterns/pool-and-map: without --break, the race detector finds nothing" {
    run_bounded 60 "$TSAN_BIN/patterns/pool-and-map" -n 2000 --keys 200
    assert_success
    assert_no_stderr
    check_pool 4 2000
    check_maps 8000
}

@test "patterns/pool-and-map: --break: every buffer used after its put is caught at the next get" {
    [ "${SAN:-}" != address ] || skip "under ASan the first such write stops the program: the test below"
    run_bounded 60 "$BIN/patterns/pool-and-map" --break -n 2000
    # Under ThreadSanitizer, two goroutines that end up with the same buffer
    # race on it, and the report may set the status to 66.
    [ "$status" -eq 1 ] || { [ "${SAN:-}" = thread ] && [ "$status" -eq 66 ]; } ||
        { echo "status $status"; return 1; }
    read -r allocated reused in_use <<<"$(pool_row "no pool")"
    assert_equal "$in_use" 0
    for name in "shared list" "cache + list"; do
        read -r allocated reused in_use <<<"$(pool_row "$name")"
        # Each of the 8000 uses after a put is found at the next get of that
        # buffer, or by the use it overlapped: nearly all of them.
        [ "$in_use" -ge 4000 ] || { echo "$name: $in_use caught"; return 1; }
    done
    assert_line --regexp '^main: [0-9]+ times a buffer was used after its put$'
    refute_line "main: every buffer and every key checked"
    assert_equal "${lines[-1]}" "goroutines at the end: 1 (main and 0 leaked)"
}

@test "patterns/pool-and-map: --break under ASan: the pool's poison reports the first write after a put" {
    c_only "ASan is C's"
    [ "${SAN:-}" = address ] || skip "the ASan build: make SAN=address test/patterns/pool-and-map"
    run_bounded 60 "$BIN/patterns/pool-and-map" --break -n 2000
    assert_failure
    [[ "$stderr" == *"AddressSanitizer: use-after-poison"* ]] || { echo "$stderr"; return 1; }
    [[ "$stderr" == *"in use patterns/pool-and-map/main.c"* ]] || { echo "$stderr"; return 1; }
}

@test "patterns/pool-and-map: valgrind: no errors, nothing definitely lost" {
    c_only "valgrind runs the C binary"
    [ -z "${SAN:-}" ] || skip "valgrind runs the release build"
    run_bounded 120 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        "$BIN/patterns/pool-and-map" -n 1000 --keys 300
    assert_success
}

@test "patterns/pool-and-map: bad flags and values: exit 2, the error and the usage on stderr" {
    assert_bad_flags patterns/pool-and-map "-n 0" "-w 0" "-w 65" "--size 63" "--size 1048577" \
        "--keys 0" "--keys 3 -w 4" "--shards 0" "--shards 1025" "--break=oops" "-x"
}

@test "patterns/pool-and-map: -h and --help: the usage on stderr, exit 0" {
    assert_help patterns/pool-and-map
}
