#!/usr/bin/env python3
"""The driver of `make bench`: runs the C, Go and crossbeam programs
alternately, takes medians, prints the tables, writes build/bench/results.tsv
and draws build/bench/ratios.svg with gnuplot.

    run.py --c BIN [--go BIN] [--crossbeam BIN [--rustc RUSTC]] [--out DIR]
           [--runs 5] [--only NAME,...]

Each workload runs --runs times per implementation, in turn: C, Go with
GOMAXPROCS = the cores, Go with GOMAXPROCS=1, crossbeam, C, Go, ... so that a
slow moment of the machine hits every side alike. Without --go or without
--crossbeam, that side is left out (and the C half runs alone without both).
Every program prints `name<TAB>value` lines: ns per operation, or the unit its
name ends with (-MB, -us); a row a program does not print (crossbeam has no
timer lateness) shows as "-". --rustc names the compiler of the crossbeam
half, for the heading.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

# (workload, N): the same N goes to every program. Sized so that a run of the
# slower side takes well under a second on a 2-core machine.
WORKLOADS = [
    ("pingpong", 100_000),
    ("handoff", 200_000),
    ("spsc-100", 1_000_000),
    ("mpmc-100", 1_000_000),
    ("select-2", 200_000),
    ("nonblocking", 10_000_000),
    ("worker-pool", 1_000_000),
    ("spawn", 10_000),
    ("spawn-blocked", 10_000),
    ("timers", 100_000),
    ("mpmc-1x1", 1_000_000),
    ("mpmc-2x2", 1_000_000),
    ("mpmc-8x8", 1_000_000),
    ("mpmc-16x16", 1_000_000),
    ("select-8", 50_000),
    ("select-32", 50_000),
]

# The main table: (row, target, unit). A target is the highest acceptable
# ratio C/Go, except for the memory row, where it bounds the C figure itself.
MAIN_ROWS = [
    ("pingpong", 2.0, "ns/round trip"),
    ("handoff", 2.0, "ns/value"),
    ("spsc-100", 1.0, "ns/value"),
    ("mpmc-100", 1.0, "ns/value"),
    ("select-2", 1.5, "ns/value"),
    ("nonblocking-select-default", 2.0, "ns/op"),
    ("nonblocking-recv-closed", 2.0, "ns/op"),
    ("worker-pool", 1.0, "ns/job"),
    ("spawn", 20.0, "ns/goroutine"),
    ("spawn-blocked-rss-MB", 200.0, "MB"),
    ("timers-arm", None, "ns/timer"),
    ("timers-late-mean-us", None, "us"),
    ("timers-late-max-us", None, "us"),
]
ABSOLUTE_TARGETS = {"spawn-blocked-rss-MB"}

# The scaling tables: (title, [(load, row)]). mpmc 4x4 is mpmc-100 itself.
SCALING = [
    ("mpmc, K senders and K receivers, capacity 100 (ns/value)",
     [(1, "mpmc-1x1"), (2, "mpmc-2x2"), (4, "mpmc-100"), (8, "mpmc-8x8"), (16, "mpmc-16x16")]),
    ("select over K unbuffered channels, one sender each (ns/value)",
     [(2, "select-2"), (8, "select-8"), (32, "select-32")]),
]

# The chart: the rows whose ratio is a cost per operation.
CHART_ROWS = ["pingpong", "handoff", "spsc-100", "mpmc-100", "select-2",
              "nonblocking-select-default", "nonblocking-recv-closed",
              "worker-pool", "spawn", "timers-arm"]

TIMEOUT = 120  # seconds for one run; a hang is a failure, not a wait


def run_once(cmd, env, failures):
    """Runs one program; returns {row: value}, or {} after a failure."""
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        failures.append(f"{' '.join(cmd)}: no answer after {TIMEOUT} s")
        return {}
    if p.returncode != 0:
        failures.append(f"{' '.join(cmd)}: exit status {p.returncode}: {p.stderr.strip()}")
        return {}
    rows = {}
    for line in p.stdout.splitlines():
        name, _, value = line.partition("\t")
        try:
            rows[name] = float(value)
        except ValueError:
            failures.append(f"{' '.join(cmd)}: unreadable line {line!r}")
    return rows


def git_commit(root):
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "no commit yet"
    dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return head + (" with uncommitted changes" if dirty else "")


def busy_cpu_seconds():
    """CPU time spent not idle by the whole machine so far (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: all but idle and iowait.
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    t = os.times()
    return t.children_user + t.children_system


def first_line(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.split("\n")[0].strip()
    except OSError:
        return ""


def fmt(x):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def markdown(header, rows):
    """An aligned Markdown table: readable on a terminal and in the README."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--c", required=True, help="the C program")
    ap.add_argument("--go", help="the Go program (omit to run without Go)")
    ap.add_argument("--crossbeam", help="the crossbeam program (omit to run without crossbeam)")
    ap.add_argument("--rustc", help="the rustc that built the crossbeam program (for the heading)")
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", help="comma-separated workloads (default: all)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    args.workloads = WORKLOADS
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {w for w, _ in WORKLOADS}
        if unknown:
            ap.error(f"unknown workloads: {', '.join(sorted(unknown))}")
        args.workloads = [(w, n) for w, n in WORKLOADS if w in wanted]
    return args


def run_all(workloads, impls, runs, failures):
    """Runs every workload `runs` times per implementation, in turn.
    Returns the raw figures as (row, impl, run, value) tuples."""
    raw = []
    began = time.monotonic()
    for workload, n in workloads:
        seen = {}  # row -> impl -> [values], for the progress lines
        for run in range(1, runs + 1):
            for impl, cmd, extra in impls:
                env = dict(os.environ, **extra)
                for row, value in run_once(cmd + [workload, str(n)], env, failures).items():
                    raw.append((row, impl, run, value))
                    seen.setdefault(row, {}).setdefault(impl, []).append(value)
        for row, by_impl in seen.items():
            shown = " ".join(f"{impl} {fmt(statistics.median(v))}" for impl, v in by_impl.items())
            print(f"bench: {row}: {shown} ({time.monotonic() - began:.0f} s)", file=sys.stderr)
    return raw


def main_table(get, cores):
    """The main table, and the rows that miss their target."""
    header = ["workload", "unit", "C median", f"Go median (GOMAXPROCS={cores})", "C/Go",
              "target", "met", "Go median (GOMAXPROCS=1)", "C/Go(1)", "crossbeam median",
              "C/crossbeam"]
    rows, missed = [], []
    for row, target, unit in MAIN_ROWS:
        c, g, g1, cb = get(row, "c"), get(row, "go"), get(row, "go1"), get(row, "crossbeam")
        if c is None and g is None and cb is None:
            continue
        r = ratio(c, g)
        if target is None:
            goal, met = "-", "-"
        elif row in ABSOLUTE_TARGETS:
            goal = f"C < {target:g} {unit}"
            met = "-" if c is None else ("yes" if c < target else "NO")
        else:
            goal = f"<= {target:g}"
            met = "-" if r is None else ("yes" if r <= target else "NO")
        if met == "NO":
            missed.append(row)
        rows.append([row, unit, fmt(c), fmt(g), fmt(r), goal, met, fmt(g1), fmt(ratio(c, g1)),
                     fmt(cb), fmt(ratio(c, cb))])
    return markdown(header, rows), missed


def scaling_tables(get, cores):
    tables = []
    for title, loads in SCALING:
        k0, row0 = loads[0]
        rows = []
        for load, row in loads:
            c, g, g1, cb = get(row, "c"), get(row, "go"), get(row, "go1"), get(row, "crossbeam")
            if c is None and g is None and cb is None:
                continue
            rows.append([str(load), fmt(c), fmt(g), fmt(ratio(c, g)), fmt(g1), fmt(ratio(c, g1)),
                         fmt(cb), fmt(ratio(c, cb)), fmt(ratio(c, get(row0, "c"))),
                         fmt(ratio(g, get(row0, "go"))), fmt(ratio(cb, get(row0, "crossbeam")))])
        if rows:
            header = ["K", "C", f"Go ({cores})", "C/Go", "Go (1)", "C/Go(1)", "crossbeam",
                      "C/crossbeam", f"C vs K={k0}", f"Go vs K={k0}", f"crossbeam vs K={k0}"]
            tables.append(f"{title}\n\n" + markdown(header, rows))
    return tables


def machine(c_bin, failures):
    """What this machine charges for a cache line between cores and for a
    switch between threads on one core (bench_c machine): {row: ns}."""
    return run_once([c_bin, "machine", "200000"], dict(os.environ), failures)


def machine_line(before, after):
    def both(row):
        a, b = before.get(row), after.get(row)
        return f"{fmt(a)} ns before the runs and {fmt(b)} ns after" if a and b else "not measured"
    return (f"This machine: a cache line's round trip between two cores took "
            f"{both('machine-cacheline-rtt')}; a switch between two threads on one core, "
            f"{both('machine-switch')} (`bench_c machine`: the costs that a goroutine switch "
            f"on one P avoids).")


def crate_version(name):
    """The version of a crate in tests/bench/crossbeam/Cargo.lock: the one
    the crossbeam half was built with."""
    lock = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crossbeam", "Cargo.lock")
    try:
        with open(lock) as f:
            blocks = f.read().split("[[package]]")
    except OSError:
        return None
    for block in blocks:
        fields = dict(l.split(" = ", 1) for l in block.splitlines() if " = " in l)
        if fields.get("name") == f'"{name}"':
            return fields.get("version", "").strip('"')
    return None


def heading(args, cores, other_share):
    commit = git_commit(os.path.dirname(os.path.abspath(__file__)))
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    tools = [first_line(["cc", "--version"])]
    if args.go:
        tools.append(first_line(["go", "version"]))
    if args.crossbeam:
        if args.rustc:
            tools.append(first_line([args.rustc, "--version"]))
        version = crate_version("crossbeam-channel")
        tools.append(f"crossbeam-channel {version}" if version else "crossbeam-channel")
    runs = f"{args.runs} run{'s' if args.runs > 1 else ''}"
    return (f"Measured at commit {commit}, {cores} cores ({cpu}), medians of {runs} per side, "
            f"{time.strftime('%Y-%m-%d')}; other processes used {other_share:.0%} of the CPUs "
            f"meanwhile.\nBuilt with {'; '.join(t for t in tools if t)}.")


def main():
    args = parse_args()
    cores = len(os.sched_getaffinity(0))
    impls = [("c", [args.c], {})]
    if args.go:
        impls += [("go", [args.go], {"GOMAXPROCS": str(cores)}),
                  ("go1", [args.go], {"GOMAXPROCS": "1"})]
    if args.crossbeam:
        impls.append(("crossbeam", [args.crossbeam], {}))
    absent = [f"no {side} program" for side, bin in (("Go", args.go), ("crossbeam", args.crossbeam))
              if not bin]
    if absent:
        ran = " and ".join(["C"] + (["Go"] if args.go else []) + (["crossbeam"] if args.crossbeam else []))
        print(f"bench: running {ran} only ({', '.join(absent)})", file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)

    failures = []
    began = time.monotonic()
    busy_before, ours_before = busy_cpu_seconds(), children_cpu_seconds()
    machine_before = machine(args.c, failures)
    raw = run_all(args.workloads, impls, args.runs, failures)
    machine_after = machine(args.c, failures)
    # A busy machine makes noisy figures: say how much of the CPUs other
    # processes took meanwhile (all the busy time, minus that of our runs).
    others = (busy_cpu_seconds() - busy_before) - (children_cpu_seconds() - ours_before)
    other_share = max(0.0, others) / ((time.monotonic() - began) * cores)

    with open(os.path.join(args.out, "results.tsv"), "w") as f:
        f.write("workload\timpl\trun\tns_per_op\n")
        for row, impl, run, value in raw:
            f.write(f"{row}\t{impl}\t{run}\t{value}\n")
    values = {}
    for row, impl, _, value in raw:
        values.setdefault((row, impl), []).append(value)
    med = {key: statistics.median(v) for key, v in values.items()}
    get = lambda row, impl: med.get((row, impl))

    table, missed = main_table(get, cores)
    text = "\n\n".join([heading(args, cores, other_share) + "\n" +
                        machine_line(machine_before, machine_after), table] +
                       scaling_tables(get, cores))
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text + "\n")
    print()
    print(text + "\n")

    targets = {row: target for row, target, _ in MAIN_ROWS}
    chart(args.out, cores, [(row, get(row, "c"), get(row, "go"), get(row, "go1"),
                             get(row, "crossbeam"), targets[row]) for row in CHART_ROWS])
    print(f"bench: raw figures in {args.out}/results.tsv, tables in {args.out}/table.md")
    if not args.go:
        print("bench: Go was not available: no Go column, no ratio C/Go")
    if not args.crossbeam:
        print("bench: crossbeam was not available: no crossbeam column, no ratio C/crossbeam")
    if missed:
        print(f"bench: targets missed: {', '.join(missed)}")
    for failure in failures:
        print(f"bench: FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def chart(out, cores, rows):
    """Writes the ratios for gnuplot and draws ratios.svg if gnuplot is here."""
    data = os.path.join(out, "ratios.dat")
    num = lambda x: f"{x:.4f}" if x is not None else "NaN"
    with open(data, "w") as f:
        f.write("# workload\tC/Go\tC/Go(1)\ttarget\tC/crossbeam\n")
        for row, c, g, g1, cb, target in rows:
            r, r1, rcb = ratio(c, g), ratio(c, g1), ratio(c, cb)
            if r is None and rcb is None:
                continue
            f.write(f"{row}\t{num(r)}\t{num(r1)}\t{num(target)}\t{num(rcb)}\n")
    if not any(ratio(c, g) or ratio(c, cb) for _, c, g, _, cb, _ in rows):
        print("bench: no ratios to draw (no Go or crossbeam figures)")
        return
    if shutil.which("gnuplot") is None:
        print("bench: gnuplot is missing: no chart (apt-get install gnuplot-nox)")
        return
    svg = os.path.join(out, "ratios.svg")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ratios.gp")
    p = subprocess.run(["gnuplot", "-e", f"datafile='{data}'; outfile='{svg}'; cores={cores}",
                        script], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"bench: gnuplot failed: {p.stderr.strip()}")
    else:
        print(f"bench: chart in {svg}")


if __name__ == "__main__":
    sys.exit(main())
