//! The crossbeam half of `make bench`: the workloads of tests/bench/bench.c
//! and tests/bench/go/main.go on crossbeam-channel, one function each, with
//! the same names, the same N and the same steps, timed with Instant (the
//! monotonic clock). Each figure is printed as a `name<TAB>value` line for
//! tests/bench/run.py.
//!
//!     usage: bench_crossbeam WORKLOAD N
//!
//! A goroutine is an OS thread here (std::thread::spawn), as in common/. What
//! Go and common/ call closing a channel is, in crossbeam, dropping its last
//! Sender: where C closes, the one Sender left is dropped. Every workload
//! checks what it received (count and sum), so a broken channel fails the run
//! (exit 1) instead of producing a fast number.
//!
//! Not here: timers-late-mean-us and timers-late-max-us. crossbeam's `after`
//! arms nothing: its channel holds a deadline, and delivers that deadline
//! itself to whoever receives once it has passed, so there is no instant at
//! which a timer fires to measure (timers-arm is here: the cost of `after`).
//! Nor machine, which measures the machine, not a channel.
#![recursion_limit = "256"] // select! over 32 channels

use crossbeam_channel::{after, bounded, select, Receiver, Sender};
use crossbeam_utils::sync::WaitGroup;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};
use std::{env, process, thread};

fn report(name: &str, value: f64) {
    println!("{}\t{:.3}", name, value);
}

fn check(ok: bool, workload: &str, what: &str) {
    if !ok {
        eprintln!("bench_crossbeam: {}: {}", workload, what);
        process::exit(1);
    }
}

fn per_op(start: Instant, n: usize) -> f64 {
    start.elapsed().as_nanos() as f64 / n as f64
}

// A send or receive that fails means a channel was dropped too early: a bug
// of this program, not a figure.
const SEND: &str = "send on a channel without receivers";
const RECV: &str = "receive on a channel without senders";

/// pingpong: main sends on a, the partner answers on b: one round trip.
fn pingpong(name: &str, n: usize, _k: usize) {
    let (a, a_rx) = bounded::<i64>(0);
    let (b_tx, b) = bounded::<i64>(0);
    let mut v: i64 = 0;
    let start = Instant::now();
    let partner = thread::spawn(move || {
        for _ in 0..n {
            let w = a_rx.recv().expect(RECV);
            b_tx.send(w + 1).expect(SEND);
        }
    });
    for _ in 0..n {
        a.send(v).expect(SEND);
        v = b.recv().expect(RECV);
    }
    partner.join().unwrap();
    let t = per_op(start, n);
    check(v == n as i64, name, "wrong count of round trips");
    report(name, t);
}

/// handoff and spsc: one sender, main receives; k is the capacity.
fn send_one_to_n(c: &Sender<i64>, n: usize) {
    for v in 1..=n as i64 {
        c.send(v).expect(SEND);
    }
}

fn stream(name: &str, n: usize, k: usize) {
    let (tx, c) = bounded::<i64>(k);
    let mut sum: i64 = 0;
    let start = Instant::now();
    let sender = thread::spawn(move || send_one_to_n(&tx, n));
    for _ in 0..n {
        sum += c.recv().expect(RECV);
    }
    sender.join().unwrap();
    let t = per_op(start, n);
    check(sum == n as i64 * (n as i64 + 1) / 2, name, "wrong sum");
    report(name, t);
}

/// mpmc: k senders send n/k values each, k receivers drain until close.
fn mpmc(name: &str, n: usize, k: usize) {
    let per = n / k;
    let (tx, c) = bounded::<i64>(100);
    let mut receivers = Vec::with_capacity(k);
    let mut senders = Vec::with_capacity(k);
    let start = Instant::now();
    for _ in 0..k {
        let c = c.clone();
        receivers.push(thread::spawn(move || {
            // Counts in locals, returned at the end, as in C and Go.
            let (mut sum, mut count) = (0i64, 0usize);
            for v in c.iter() {
                sum += v;
                count += 1;
            }
            (sum, count)
        }));
        let tx = tx.clone();
        senders.push(thread::spawn(move || send_one_to_n(&tx, per)));
    }
    for s in senders {
        s.join().unwrap();
    }
    drop(tx); // close(c): the senders' clones are gone, this is the last one
    let counts: Vec<(i64, usize)> = receivers.into_iter().map(|r| r.join().unwrap()).collect();
    let t = per_op(start, per * k);
    let sum: i64 = counts.iter().map(|r| r.0).sum();
    let count: usize = counts.iter().map(|r| r.1).sum();
    check(
        count == per * k && sum == k as i64 * (per as i64 * (per as i64 + 1) / 2),
        name,
        "wrong count or sum",
    );
    report(name, t);
}

/// select: k senders on k unbuffered channels, main selects over all of them.
/// crossbeam's select! is a macro over a list of cases written out, as Go's
/// select is a statement, so each width is spelled out as in main.go; it
/// takes 32 cases at most, just enough for select-32.
fn select_once(cs: &[Receiver<i64>]) -> i64 {
    let v = match cs.len() {
        2 => select! {
            recv(cs[0]) -> v => v,
            recv(cs[1]) -> v => v,
        },
        8 => select! {
            recv(cs[0]) -> v => v,
            recv(cs[1]) -> v => v,
            recv(cs[2]) -> v => v,
            recv(cs[3]) -> v => v,
            recv(cs[4]) -> v => v,
            recv(cs[5]) -> v => v,
            recv(cs[6]) -> v => v,
            recv(cs[7]) -> v => v,
        },
        32 => select! {
            recv(cs[0]) -> v => v,
            recv(cs[1]) -> v => v,
            recv(cs[2]) -> v => v,
            recv(cs[3]) -> v => v,
            recv(cs[4]) -> v => v,
            recv(cs[5]) -> v => v,
            recv(cs[6]) -> v => v,
            recv(cs[7]) -> v => v,
            recv(cs[8]) -> v => v,
            recv(cs[9]) -> v => v,
            recv(cs[10]) -> v => v,
            recv(cs[11]) -> v => v,
            recv(cs[12]) -> v => v,
            recv(cs[13]) -> v => v,
            recv(cs[14]) -> v => v,
            recv(cs[15]) -> v => v,
            recv(cs[16]) -> v => v,
            recv(cs[17]) -> v => v,
            recv(cs[18]) -> v => v,
            recv(cs[19]) -> v => v,
            recv(cs[20]) -> v => v,
            recv(cs[21]) -> v => v,
            recv(cs[22]) -> v => v,
            recv(cs[23]) -> v => v,
            recv(cs[24]) -> v => v,
            recv(cs[25]) -> v => v,
            recv(cs[26]) -> v => v,
            recv(cs[27]) -> v => v,
            recv(cs[28]) -> v => v,
            recv(cs[29]) -> v => v,
            recv(cs[30]) -> v => v,
            recv(cs[31]) -> v => v,
        },
        _ => panic!("no select of that width"),
    };
    v.expect(RECV)
}

fn select_n(name: &str, n: usize, k: usize) {
    let per = n / k;
    let (txs, cs): (Vec<Sender<i64>>, Vec<Receiver<i64>>) = (0..k).map(|_| bounded(0)).unzip();
    let mut senders = Vec::with_capacity(k);
    let mut sum: i64 = 0;
    let start = Instant::now();
    // Each sender gets a clone and main keeps the originals until the end: a
    // channel whose last Sender is gone is closed, and a select takes a closed
    // channel's receive (as Go's does), while Go's senders here never close.
    for tx in &txs {
        let tx = tx.clone();
        senders.push(thread::spawn(move || send_one_to_n(&tx, per)));
    }
    for _ in 0..per * k {
        sum += select_once(&cs);
    }
    for s in senders {
        s.join().unwrap();
    }
    drop(txs);
    let t = per_op(start, per * k);
    check(sum == k as i64 * (per as i64 * (per as i64 + 1) / 2), name, "wrong sum");
    report(name, t);
}

/// nonblocking: no other thread; two figures.
fn nonblocking(name: &str, n: usize, _k: usize) {
    // The Sender of `empty` stays alive: without one the channel would be
    // closed, and the select would take the receive.
    let (_empty_tx, empty) = bounded::<i64>(1);
    let (closed_tx, closed) = bounded::<i64>(0);
    drop(closed_tx);
    let (mut defaults, mut zeros) = (0usize, 0usize);

    // select! turns a receive with a default into try_recv, as Go's compiler
    // turns it into selectnbrecv.
    let start = Instant::now();
    for _ in 0..n {
        select! {
            recv(empty) -> _ => {},
            default => defaults += 1,
        }
    }
    let t = per_op(start, n);
    check(defaults == n, name, "select on an empty channel did not take the default");
    report("nonblocking-select-default", t);

    // Go's zero value and false: an Err, which carries no value.
    let start = Instant::now();
    for _ in 0..n {
        if closed.recv().is_err() {
            zeros += 1;
        }
    }
    let t = per_op(start, n);
    check(zeros == n, name, "receive on a closed channel did not fail");
    report("nonblocking-recv-closed", t);
}

/// worker-pool: a producer feeds jobs, k workers answer on results, a closer
/// closes results when the workers are done, main collects.
fn worker_pool(name: &str, n: usize, k: usize) {
    let (jobs_tx, jobs) = bounded::<i64>(100);
    let (results_tx, results) = bounded::<i64>(100);
    let mut workers = Vec::with_capacity(k);
    let (mut sum, mut count) = (0i64, 0usize);
    let start = Instant::now();
    let producer = thread::spawn(move || {
        for j in 1..=n as i64 {
            jobs_tx.send(j).expect(SEND);
        }
        drop(jobs_tx); // close(jobs)
    });
    for _ in 0..k {
        let (jobs, results) = (jobs.clone(), results_tx.clone());
        workers.push(thread::spawn(move || {
            for j in jobs.iter() {
                results.send(2 * j).expect(SEND);
            }
        }));
    }
    let closer = thread::spawn(move || {
        for w in workers {
            w.join().unwrap();
        }
        drop(results_tx); // close(results): the workers' clones are gone
    });
    for r in results.iter() {
        sum += r;
        count += 1;
    }
    producer.join().unwrap();
    closer.join().unwrap();
    let t = per_op(start, n);
    check(
        count == n && sum == n as i64 * (n as i64 + 1),
        name,
        "wrong count or sum of results",
    );
    report(name, t);
}

/// spawn: n threads that only say they are done (a WaitGroup clone each,
/// dropped: wg_add and wg_done).
fn spawn(name: &str, n: usize, _k: usize) {
    let wg = WaitGroup::new();
    let start = Instant::now();
    for _ in 0..n {
        let done = wg.clone();
        thread::spawn(move || drop(done));
    }
    wg.wait();
    report(name, per_op(start, n));
}

/// spawn-blocked: n threads blocked at once on one channel; the peak resident
/// memory of the process is read while they all wait.
fn vm_hwm_kb() -> i64 {
    let f = match File::open("/proc/self/status") {
        Ok(f) => f,
        Err(_) => return -1,
    };
    for line in BufReader::new(f).lines().flatten() {
        if let Some(rest) = line.strip_prefix("VmHWM:") {
            let kb = rest.trim().trim_end_matches("kB").trim();
            return kb.parse().unwrap_or(-1);
        }
    }
    -1
}

fn spawn_blocked(name: &str, n: usize, _k: usize) {
    let (gate_tx, gate) = bounded::<i64>(0);
    let (started, finished) = (WaitGroup::new(), WaitGroup::new());
    for _ in 0..n {
        let (s, f, g) = (started.clone(), finished.clone(), gate.clone());
        thread::spawn(move || {
            drop(s);
            let _ = g.recv();
            drop(f);
        });
    }
    started.wait();
    let kb = vm_hwm_kb();
    check(kb > 0, name, "no VmHWM in /proc/self/status");
    report("spawn-blocked-rss-MB", kb as f64 / 1024.0);
    drop(gate_tx); // close(gate)
    finished.wait();
}

/// timers: n `after` channels pending at once. The first is due TIMER_LEAD
/// after the start, the others follow in the order armed, spread over
/// TIMER_SPREAD. Only the cost of arming is reported (see the top of the
/// file); every channel is still received from, and must deliver.
const TIMER_LEAD: Duration = Duration::from_millis(500);
const TIMER_SPREAD: Duration = Duration::from_millis(200);

fn timers(name: &str, n: usize, _k: usize) {
    let mut cs = Vec::with_capacity(n);
    let mut deadline = Vec::with_capacity(n);
    let base = Instant::now() + TIMER_LEAD;
    let step = TIMER_SPREAD / n as u32;

    let start = Instant::now();
    for i in 0..n {
        deadline.push(base + step * i as u32);
        cs.push(after(deadline[i].saturating_duration_since(Instant::now())));
    }
    report("timers-arm", per_op(start, n));

    for (c, d) in cs.iter().zip(&deadline) {
        let fired = c.recv();
        check(fired.is_ok(), name, "timer channel closed");
        check(Instant::now() >= *d, name, "timer delivered before its deadline");
    }
}

/// The workloads, by the name the driver and the C and Go halves use; k is
/// the capacity, the number of threads per side, or the number of channels.
type Run = fn(&str, usize, usize);
const WORKLOADS: &[(&str, Run, usize)] = &[
    ("pingpong", pingpong, 0),
    ("handoff", stream, 0),
    ("spsc-100", stream, 100),
    ("mpmc-100", mpmc, 4),
    ("select-2", select_n, 2),
    ("nonblocking", nonblocking, 0),
    ("worker-pool", worker_pool, 4),
    ("spawn", spawn, 0),
    ("spawn-blocked", spawn_blocked, 0),
    ("timers", timers, 0),
    ("mpmc-1x1", mpmc, 1),
    ("mpmc-2x2", mpmc, 2),
    ("mpmc-8x8", mpmc, 8),
    ("mpmc-16x16", mpmc, 16),
    ("select-8", select_n, 8),
    ("select-32", select_n, 32),
];

fn usage() -> ! {
    let names: Vec<&str> = WORKLOADS.iter().map(|w| w.0).collect();
    eprintln!(
        "usage: bench_crossbeam WORKLOAD N (N from 1 to 1000000000; WORKLOAD one of: {})",
        names.join(" ")
    );
    process::exit(2);
}

fn main() {
    let args: Vec<String> = env::args().collect();
    if args.len() != 3 {
        usage();
    }
    let n: usize = match args[2].parse() {
        Ok(n) if (1..=1_000_000_000).contains(&n) => n,
        _ => usage(),
    };
    let (name, run, k) = match WORKLOADS.iter().find(|w| w.0 == args[1]) {
        Some(w) => *w,
        None => usage(),
    };
    if n < k {
        eprintln!("bench_crossbeam: {} needs N of at least {}", name, k);
        process::exit(2);
    }
    run(name, n, k);
}
