#!/usr/bin/env bats
# 05-worker-pool: every job is processed exactly once, the sum is right, and
# the pool never has more than W goroutines working; with a timeout, processed
# plus cancelled is every job; one goroutine per job has no such bound.
load test_helper

# job_ids: the job id of every result line, sorted, with how often it appears.
job_ids() {
    sed -n 's/^job \([0-9][0-9]*\) -> .*/\1/p' <<<"$output" | sort -n | uniq -c
}

# every_job_once J: each of 1..J appears in exactly one result line.
every_job_once() {
    assert_equal "$(job_ids)" "$(seq 1 "$1" | awk '{ printf "%7d %d\n", 1, $1 }')"
}

# summary_field NAME: a number from the summary line.
summary_field() {
    grep '^summary: ' <<<"$output" | grep -o "$1=[0-9]*" | cut -d= -f2
}

# sum_of_squares J: 1^2 + ... + J^2, what the jobs add up to.
sum_of_squares() {
    echo $(($1 * ($1 + 1) * (2 * $1 + 1) / 6))
}

@test "default: 20 jobs on 4 workers, each once, the right sum" {
    run_bounded 10 "$BIN/05-worker-pool"
    assert_success
    assert_no_stderr
    every_job_once 20
    assert_line "summary: jobs=20 processed=20 cancelled=0 sum=2870 peak_goroutines=$(summary_field peak_goroutines)"
    assert_line "ctx.Err(): <nil>"
    [ "$(summary_field peak_goroutines)" -le 4 ]
    assert_equal "$(grep -c '^job ' <<<"$output")" 20
}

@test "W = 1, 2, 8 and W > J: every job once, the right sum, peak <= W" {
    for w in 1 2 8 40; do
        echo "workers: $w"
        run_bounded 20 "$BIN/05-worker-pool" -w "$w" -j 30
        assert_success
        assert_no_stderr
        every_job_once 30
        assert_equal "$(summary_field processed)" 30
        assert_equal "$(summary_field cancelled)" 0
        assert_equal "$(summary_field sum)" "$(sum_of_squares 30)"
        peak=$(summary_field peak_goroutines)
        [ "$peak" -ge 1 ]
        [ "$peak" -le "$w" ]
        # Every result came from one of the pool's workers, 1..W.
        ids=$(sed -n 's/.*(worker \([0-9]*\))$/\1/p' <<<"$output" | sort -n | uniq)
        [ "$(head -n 1 <<<"$ids")" -ge 1 ]
        [ "$(tail -n 1 <<<"$ids")" -le "$w" ]
    done
}

@test "--ordered: results printed by job id" {
    run_bounded 20 "$BIN/05-worker-pool" --ordered -w 8 -j 50
    assert_success
    assert_no_stderr
    assert_equal "$(sed -n 's/^job \([0-9]*\) -> .*/\1/p' <<<"$output")" "$(seq 1 50)"
    assert_equal "$(summary_field sum)" "$(sum_of_squares 50)"
}

@test "--timeout: processed + cancelled = jobs, and the sum is that of the processed" {
    # 40 jobs of 10 ms on 2 workers need 200 ms: a 30 ms deadline cancels most.
    run_bounded 20 "$BIN/05-worker-pool" -w 2 -j 40 --cost 10ms --timeout 30ms
    assert_success
    assert_no_stderr
    every_job_once 40
    processed=$(summary_field processed) cancelled=$(summary_field cancelled)
    assert_equal $((processed + cancelled)) 40
    [ "$cancelled" -gt 0 ]
    assert_equal "$(grep -c '^job [0-9]* -> cancelled' <<<"$output")" "$cancelled"
    want=$(sed -n 's/^job [0-9]* -> \([0-9][0-9]*\) .*/\1/p' <<<"$output" | awk '{ s += $1 } END { print s + 0 }')
    assert_equal "$(summary_field sum)" "$want"
    assert_line "ctx.Err(): context deadline exceeded"
}

@test "--timeout 0: every job cancelled, none lost" {
    run_bounded 10 "$BIN/05-worker-pool" --timeout 0 --cost 1s -j 12
    assert_success
    every_job_once 12
    assert_line --partial "summary: jobs=12 processed=0 cancelled=12 sum=0 "
}

@test "--break=unbounded: one goroutine per job, far more at once than the pool's W" {
    # Jobs of 300 ms: the goroutines pile up while main starts the others.
    run_bounded 30 "$BIN/05-worker-pool" --break=unbounded -w 2 -j 30 --cost 300ms
    assert_success
    assert_no_stderr
    every_job_once 30
    assert_equal "$(summary_field sum)" "$(sum_of_squares 30)"
    peak=$(summary_field peak_goroutines)
    echo "peak: $peak"
    [ "$peak" -gt 2 ]
    assert_line "break: one goroutine per job peaked at $peak at once; a pool of -w 2 never exceeds 2"
}

@test "--break alone means --break=unbounded" {
    run_bounded 20 "$BIN/05-worker-pool" --break -j 10
    assert_success
    every_job_once 10
    assert_line --partial "break: one goroutine per job peaked at "
}

@test "bad flags and values: exit 2, nothing on stdout, one line on stderr" {
    assert_bad_flags 05-worker-pool "-w 0" "-w 1001" "-w x" "-j 0" "-j 10001" \
        "-j 99999999999999999999" "-j" "--cost 1" "--cost -5ms" "--timeout" "--timeout soon" \
        "--break=bounded" "--orderd" "-v" "jobs"
}

@test "-h and --help: usage on stdout, exit 0" {
    assert_help 05-worker-pool
}
