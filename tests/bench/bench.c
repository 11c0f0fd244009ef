/* bench.c: the C half of `make bench`. One workload per run, timed with
 * CLOCK_MONOTONIC; each figure is printed as a `name<TAB>value` line for
 * tests/bench/run.py. tests/bench/go/main.go is the same program in Go, one
 * function per workload with the same name: change both together.
 *
 *     usage: bench_c WORKLOAD N
 *
 * N is the number of operations (values, round trips, jobs, goroutines or
 * timers); the driver passes the same N to both halves. Every workload checks
 * what it received (count and sum), so a broken channel fails the run (exit 1)
 * instead of producing a fast number.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/go.h"
#include "common/chan.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void report(const char *name, double value) {
    printf("%s\t%.3f\n", name, value);
}

static void check(int ok, const char *workload, const char *what) {
    if (!ok) {
        fprintf(stderr, "bench_c: %s: %s\n", workload, what);
        exit(1);
    }
}

/* What the goroutines of one workload share. Each workload uses the fields it
 * needs; `done` lets main wait until no goroutine touches a channel any more,
 * so that freeing it is safe (Go needs no such wait, but does it too, so that
 * both sides time the same steps). */
struct shared {
    chan *a, *b;
    chan **chans;
    long n;
    waitgroup done;
    waitgroup done2;
    int64_t sum;
    long count;
};

/* pingpong: main sends on a, the partner answers on b: one round trip. */
static void pong(void *arg) {
    struct shared *s = arg;
    int64_t v;
    for (long i = 0; i < s->n; i++) {
        chan_recv(s->a, &v);
        v++;
        chan_send(s->b, &v);
    }
    wg_done(&s->done);
}

static void bench_pingpong(const char *name, long n, int k) {
    (void)k;
    struct shared s = {
        .a = chan_make(sizeof(int64_t), 0), .b = chan_make(sizeof(int64_t), 0), .n = n};
    wg_init(&s.done);
    int64_t v = 0;
    int64_t start = now_ns();
    wg_add(&s.done, 1);
    go(pong, &s);
    for (long i = 0; i < n; i++) {
        chan_send(s.a, &v);
        chan_recv(s.b, &v);
    }
    wg_wait(&s.done);
    int64_t elapsed = now_ns() - start;
    check(v == n, name, "wrong count of round trips");
    report(name, (double)elapsed / (double)n);
    chan_free(s.a);
    chan_free(s.b);
}

/* handoff and spsc: one sender, main receives; k is the capacity. */
static void send_1_to_n(void *arg) {
    struct shared *s = arg;
    for (int64_t v = 1; v <= s->n; v++)
        chan_send(s->a, &v);
    wg_done(&s->done);
}

static void bench_stream(const char *name, long n, int k) {
    struct shared s = {.a = chan_make(sizeof(int64_t), (size_t)k), .n = n};
    wg_init(&s.done);
    int64_t v, sum = 0;
    int64_t start = now_ns();
    wg_add(&s.done, 1);
    go(send_1_to_n, &s);
    for (long i = 0; i < n; i++) {
        chan_recv(s.a, &v);
        sum += v;
    }
    wg_wait(&s.done);
    int64_t elapsed = now_ns() - start;
    check(sum == (int64_t)n * (n + 1) / 2, name, "wrong sum");
    report(name, (double)elapsed / (double)n);
    chan_free(s.a);
}

/* mpmc: k senders send n/k values each, k receivers drain until close. */
struct receiver {
    struct shared *s;
    int64_t sum;
    long count;
};

/* Counts in locals: the receivers' records share cache lines. */
static void drain(void *arg) {
    struct receiver *r = arg;
    int64_t v, sum = 0;
    long count = 0;
    while (chan_recv(r->s->a, &v)) {
        sum += v;
        count++;
    }
    r->sum = sum;
    r->count = count;
    wg_done(&r->s->done2);
}

static void bench_mpmc(const char *name, long n, int k) {
    long per = n / k;
    struct shared s = {.a = chan_make(sizeof(int64_t), 100), .n = per};
    struct receiver *rs = calloc((size_t)k, sizeof *rs);
    check(rs != NULL, name, "out of memory");
    wg_init(&s.done);
    wg_init(&s.done2);
    int64_t start = now_ns();
    wg_add(&s.done, k);
    wg_add(&s.done2, k);
    for (int i = 0; i < k; i++) {
        rs[i].s = &s;
        go(drain, &rs[i]);
        go(send_1_to_n, &s);
    }
    wg_wait(&s.done);
    chan_close(s.a);
    wg_wait(&s.done2);
    int64_t elapsed = now_ns() - start;
    int64_t sum = 0;
    long count = 0;
    for (int i = 0; i < k; i++) {
        sum += rs[i].sum;
        count += rs[i].count;
    }
    check(count == per * k && sum == k * ((int64_t)per * (per + 1) / 2), name,
          "wrong count or sum");
    report(name, (double)elapsed / (double)(per * k));
    free(rs);
    chan_free(s.a);
}

/* select: k senders on k unbuffered channels, main selects over all of them. */
struct sender {
    struct shared *s;
    chan *c;
};

static void send_on_own(void *arg) {
    struct sender *snd = arg;
    for (int64_t v = 1; v <= snd->s->n; v++)
        chan_send(snd->c, &v);
    wg_done(&snd->s->done);
}

static void bench_select(const char *name, long n, int k) {
    long per = n / k;
    struct shared s = {.n = per};
    struct sender *snd = calloc((size_t)k, sizeof *snd);
    select_case *cases = calloc((size_t)k, sizeof *cases);
    check(snd != NULL && cases != NULL, name, "out of memory");
    wg_init(&s.done);
    int64_t v, sum = 0;
    for (int i = 0; i < k; i++) {
        snd[i] = (struct sender){.s = &s, .c = chan_make(sizeof(int64_t), 0)};
        cases[i] = select_recv(snd[i].c, &v);
    }
    int64_t start = now_ns();
    wg_add(&s.done, k);
    for (int i = 0; i < k; i++)
        go(send_on_own, &snd[i]);
    for (long i = 0; i < per * k; i++) {
        chan_select(cases, k);
        sum += v;
    }
    wg_wait(&s.done);
    int64_t elapsed = now_ns() - start;
    check(sum == k * ((int64_t)per * (per + 1) / 2), name, "wrong sum");
    report(name, (double)elapsed / (double)(per * k));
    for (int i = 0; i < k; i++)
        chan_free(snd[i].c);
    free(cases);
    free(snd);
}

/* nonblocking: no other goroutine; two figures. */
static void bench_nonblocking(const char *name, long n, int k) {
    (void)k;
    chan *empty = chan_make(sizeof(int64_t), 1);
    chan *closed = chan_make(sizeof(int64_t), 0);
    chan_close(closed);
    int64_t v;
    long defaults = 0, zeros = 0;
    select_case cases[1] = {select_recv(empty, &v)};

    int64_t start = now_ns();
    for (long i = 0; i < n; i++) {
        if (chan_select_default(cases, 1) == SELECT_DEFAULT)
            defaults++;
    }
    int64_t elapsed = now_ns() - start;
    check(defaults == n, name, "select on an empty channel did not take the default");
    report("nonblocking-select-default", (double)elapsed / (double)n);

    start = now_ns();
    for (long i = 0; i < n; i++) {
        if (!chan_recv(closed, &v) && v == 0)
            zeros++;
    }
    elapsed = now_ns() - start;
    check(zeros == n, name, "receive on a closed channel did not return zero, false");
    report("nonblocking-recv-closed", (double)elapsed / (double)n);
    chan_free(empty);
    chan_free(closed);
}

/* worker-pool: a producer feeds a jobs, k workers answer on b, a closer closes
 * b when the workers are done, main collects. */
static void produce(void *arg) {
    struct shared *s = arg;
    for (int64_t j = 1; j <= s->n; j++)
        chan_send(s->a, &j);
    chan_close(s->a);
    wg_done(&s->done2);
}

static void work(void *arg) {
    struct shared *s = arg;
    int64_t j;
    while (chan_recv(s->a, &j)) {
        int64_t r = 2 * j;
        chan_send(s->b, &r);
    }
    wg_done(&s->done);
}

static void close_results(void *arg) {
    struct shared *s = arg;
    wg_wait(&s->done);
    chan_close(s->b);
    wg_done(&s->done2);
}

static void bench_worker_pool(const char *name, long n, int k) {
    struct shared s = {
        .a = chan_make(sizeof(int64_t), 100), .b = chan_make(sizeof(int64_t), 100), .n = n};
    wg_init(&s.done);
    wg_init(&s.done2);
    int64_t r, sum = 0;
    long count = 0;
    int64_t start = now_ns();
    wg_add(&s.done, k);
    wg_add(&s.done2, 2);
    go(produce, &s);
    for (int i = 0; i < k; i++)
        go(work, &s);
    go(close_results, &s);
    while (chan_recv(s.b, &r)) {
        sum += r;
        count++;
    }
    wg_wait(&s.done2);
    int64_t elapsed = now_ns() - start;
    check(count == n && sum == (int64_t)n * (n + 1), name, "wrong count or sum of results");
    report(name, (double)elapsed / (double)n);
    chan_free(s.a);
    chan_free(s.b);
}

/* spawn: n goroutines that only say they are done. */
static void finish(void *arg) {
    wg_done(arg);
}

static void bench_spawn(const char *name, long n, int k) {
    (void)k;
    waitgroup wg = WAITGROUP_INIT;
    int64_t start = now_ns();
    for (long i = 0; i < n; i++) {
        wg_add(&wg, 1);
        go(finish, &wg);
    }
    wg_wait(&wg);
    report(name, (double)(now_ns() - start) / (double)n);
}

/* spawn-blocked: n goroutines blocked at once on one channel; the peak
 * resident memory of the process is read while they all wait. */
static long vm_hwm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

static void wait_for_gate(void *arg) {
    struct shared *s = arg;
    wg_done(&s->done);
    chan_recv(s->a, NULL);
    wg_done(&s->done2);
}

static void bench_spawn_blocked(const char *name, long n, int k) {
    (void)k;
    struct shared s = {.a = chan_make(sizeof(int64_t), 0)};
    wg_init(&s.done);
    wg_init(&s.done2);
    wg_add(&s.done, n);
    wg_add(&s.done2, n);
    for (long i = 0; i < n; i++)
        go(wait_for_gate, &s);
    wg_wait(&s.done);
    long kb = vm_hwm_kb();
    check(kb > 0, name, "no VmHWM in /proc/self/status");
    report("spawn-blocked-rss-MB", (double)kb / 1024.0);
    chan_close(s.a);
    wg_wait(&s.done2);
    chan_free(s.a);
}

/* timers: n time_after timers pending at once. The first is due TIMER_LEAD
 * after the start (long enough to arm them all first), the others follow in
 * the order armed, spread over TIMER_SPREAD. Lateness is the instant each
 * channel delivers (the instant its timer fired) minus its deadline. */
#define TIMER_LEAD   (500 * MILLISECOND)
#define TIMER_SPREAD (200 * MILLISECOND)

static void bench_timers(const char *name, long n, int k) {
    (void)k;
    chan **cs = calloc((size_t)n, sizeof *cs);
    instant *deadline = calloc((size_t)n, sizeof *deadline);
    check(cs != NULL && deadline != NULL, name, "out of memory");
    instant base = time_now() + TIMER_LEAD;
    duration step = TIMER_SPREAD / n;

    int64_t start = now_ns();
    for (long i = 0; i < n; i++) {
        deadline[i] = base + i * step;
        cs[i] = time_after(deadline[i] - time_now());
    }
    report("timers-arm", (double)(now_ns() - start) / (double)n);

    double total = 0, max = 0;
    for (long i = 0; i < n; i++) {
        instant fired;
        check(chan_recv(cs[i], &fired), name, "timer channel closed");
        double late = (double)(fired - deadline[i]);
        total += late;
        if (late > max)
            max = late;
        chan_free(cs[i]);
    }
    report("timers-late-mean-us", total / (double)n / 1e3);
    report("timers-late-max-us", max / 1e3);
    free(deadline);
    free(cs);
}

/* machine: not a workload but what this machine charges for the two things
 * that Go's runtime mostly avoids and common/ cannot: a cache line going from
 * one core to another and back (two threads bounce a flag), and a switch
 * between two threads on one core (both pinned to CPU 0, each yielding to the
 * other). Both vary a lot on a virtual machine, with where the host runs its
 * virtual CPUs, so run.py measures them before and after the workloads and
 * prints them in the heading of the table. Plain threads and atomics: no
 * channel is involved. */
struct bounce {
    _Alignas(64) atomic_long flag;
    long n;
    bool pin;
};

static void pin_to_cpu0(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Waits for flag to be odd, makes it even: the partner of main's loop. */
static void *bounce_back(void *arg) {
    struct bounce *b = arg;
    if (b->pin)
        pin_to_cpu0();
    for (long i = 0; i < b->n; i++) {
        while (atomic_load_explicit(&b->flag, memory_order_acquire) != 2 * i + 1)
            if (b->pin)
                sched_yield();
        atomic_store_explicit(&b->flag, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static double bounce_ns(long n, bool pin) {
    struct bounce b = {.n = n, .pin = pin};
    pthread_t t;
    check(pthread_create(&t, NULL, bounce_back, &b) == 0, "machine", "pthread_create");
    if (pin)
        pin_to_cpu0();
    int64_t start = now_ns();
    for (long i = 0; i < n; i++) {
        atomic_store_explicit(&b.flag, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&b.flag, memory_order_acquire) != 2 * i + 2)
            if (pin)
                sched_yield();
    }
    int64_t elapsed = now_ns() - start;
    pthread_join(t, NULL);
    return (double)elapsed / (double)n;
}

static void bench_machine(const char *name, long n, int k) {
    (void)name, (void)k;
    report("machine-cacheline-rtt", bounce_ns(n, false));
    /* Two switches per round trip. */
    report("machine-switch", bounce_ns(n / 10 > 0 ? n / 10 : 1, true) / 2);
}

/* The workloads, by the name the driver and the Go half use; k is the
 * capacity, the number of goroutines per side, or the number of channels. */
static const struct workload {
    const char *name;
    void (*run)(const char *name, long n, int k);
    int k;
} workloads[] = {
    {"pingpong", bench_pingpong, 0},
    {"handoff", bench_stream, 0},
    {"spsc-100", bench_stream, 100},
    {"mpmc-100", bench_mpmc, 4},
    {"select-2", bench_select, 2},
    {"nonblocking", bench_nonblocking, 0},
    {"worker-pool", bench_worker_pool, 4},
    {"spawn", bench_spawn, 0},
    {"spawn-blocked", bench_spawn_blocked, 0},
    {"timers", bench_timers, 0},
    {"mpmc-1x1", bench_mpmc, 1},
    {"mpmc-2x2", bench_mpmc, 2},
    {"mpmc-8x8", bench_mpmc, 8},
    {"mpmc-16x16", bench_mpmc, 16},
    {"select-8", bench_select, 8},
    {"select-32", bench_select, 32},
    {"machine", bench_machine, 0},
};

static int usage(void) {
    fprintf(stderr, "usage: bench_c WORKLOAD N (N from 1 to 1000000000; WORKLOAD one of:");
    for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
        fprintf(stderr, " %s", workloads[i].name);
    fprintf(stderr, ")\n");
    return 2;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 3)
        return usage();
    char *end;
    errno = 0;
    long n = strtol(argv[2], &end, 10);
    if (errno != 0 || end == argv[2] || *end != '\0' || n < 1 || n > 1000000000)
        return usage();
    for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
        const struct workload *w = &workloads[i];
        if (strcmp(argv[1], w->name) == 0) {
            if (n < w->k) {
                fprintf(stderr, "bench_c: %s needs N of at least %d\n", w->name, w->k);
                return 2;
            }
            w->run(w->name, n, w->k);
            return 0;
        }
    }
    return usage();
}
