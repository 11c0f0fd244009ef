/* test_go.c: goroutines and the deadlock detector (common/go.h).
 *
 * Every normal case here leaves no goroutine behind, so that the "no deadlock while ..."
 * cases run with main alone and would see a false deadlock report if there were one.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/chan.h"
#include "common/context.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"
#include "testlib.h"

typedef struct task {
    chan *gate; /* the goroutine waits for it to close */
    atomic_int started, finished;
} task;

static void wait_gate(void *arg) {
    task *t = arg;
    atomic_fetch_add(&t->started, 1);
    EXPECT(!chan_recv(t->gate, NULL));
    atomic_fetch_add(&t->finished, 1);
}

static void store_42(void *arg) {
    atomic_store((atomic_int *)arg, 42);
}

static void go_runs_function_with_its_argument(void) {
    atomic_int slot = 0;
    go(store_42, &slot);
    WAIT_FOR(atomic_load(&slot) == 42, 5);
}

static void go_returns_before_the_function_finishes(void) {
    task t = {.gate = chan_make(1, 0)};
    go(wait_gate, &t); /* returns while wait_gate is still blocked */
    WAIT_FOR(atomic_load(&t.started) == 1, 5);
    EXPECT_EQ(0, atomic_load(&t.finished));
    chan_close(t.gate);
    WAIT_FOR(atomic_load(&t.finished) == 1, 5);
    WAIT_FOR(go_num_goroutines() == 1, 5);
    chan_free(t.gate);
}

static void num_goroutines_counts_main_and_live_goroutines(void) {
    WAIT_FOR(go_num_goroutines() == 1, 5); /* main alone */
    task t = {.gate = chan_make(1, 0)};
    for (int i = 0; i < 5; i++)
        go(wait_gate, &t);
    WAIT_FOR(go_num_goroutines() == 6, 5);
    chan_close(t.gate);
    WAIT_FOR(go_num_goroutines() == 1, 5);
    EXPECT_EQ(5, atomic_load(&t.finished));
    chan_free(t.gate);
}

/* --- no false deadlock report while something may still wake main --- */

static void no_deadlock_while_timer_pending(void) {
    WAIT_FOR(go_num_goroutines() == 1, 5);
    chan *c = time_after(50 * MILLISECOND);
    EXPECT(chan_recv(c, NULL)); /* main alone, blocked: only the timer can wake it */
    chan_free(c);
    timer *t = timer_new(20 * MILLISECOND);
    EXPECT(chan_recv(t->c, NULL));
    timer_free(t);
    context *ctx = ctx_with_timeout(ctx_background(), 20 * MILLISECOND);
    EXPECT(!chan_recv(ctx_done(ctx), NULL));
    ctx_free(ctx);
}

static void no_deadlock_while_ticker_runs(void) {
    WAIT_FOR(go_num_goroutines() == 1, 5);
    ticker *tk = ticker_new(10 * MILLISECOND);
    for (int i = 0; i < 3; i++)
        EXPECT(chan_recv(tk->c, NULL));
    ticker_free(tk);
}

static void sleep_then_send(void *arg) {
    time_sleep(50 * MILLISECOND);
    chan_send(arg, &(int64_t){1});
}

static void no_deadlock_while_a_goroutine_sleeps(void) {
    WAIT_FOR(go_num_goroutines() == 1, 5);
    chan *c = chan_make(sizeof(int64_t), 0);
    go(sleep_then_send, c);
    EXPECT(chan_recv(c, NULL)); /* a sleeping goroutine is not blocked */
    WAIT_FOR(go_num_goroutines() == 1, 5);
    chan_free(c);
}

static void *signal_later(void *arg) {
    (void)arg;
    time_sleep(50 * MILLISECOND);
    kill(getpid(), SIGUSR1);
    return NULL;
}

static void no_deadlock_while_signal_context_waits(void) {
    WAIT_FOR(go_num_goroutines() == 1, 5);
    context *ctx = ctx_with_signals(ctx_background(), SIGUSR1, 0);
    pthread_t th;
    EXPECT(pthread_create(&th, NULL, signal_later, NULL) == 0);
    EXPECT(!chan_recv(ctx_done(ctx), NULL));
    pthread_join(th, NULL);
    ctx_free(ctx);
}

/* Work that never calls into common/: the thread is unknown to the runtime
 * unless it was counted when it was made. */
static _Atomic uint64_t computed; /* where the work goes, so it is not optimized away */

static void compute_for(duration d) {
    uint64_t sum = 0;
    for (instant until = time_now() + d; time_now() < until;)
        for (int i = 0; i < 1000; i++)
            sum += (uint64_t)i * (uint64_t)i;
    atomic_fetch_add_explicit(&computed, sum, memory_order_relaxed);
}

static void *compute_then_send(void *arg) {
    compute_for(100 * MILLISECOND);
    chan_send(arg, &(int64_t){42});
    return NULL;
}

/* Defect 7: a thread made with pthread_create counts from its birth, so main
 * blocked on what it will send is not a deadlock. */
static void no_deadlock_while_a_pthread_computes_what_main_waits_for(void) {
    WAIT_FOR(go_num_goroutines() == 1, 5);
    chan *c = chan_make(sizeof(int64_t), 0);
    pthread_t th;
    EXPECT(pthread_create(&th, NULL, compute_then_send, c) == 0);
    EXPECT_EQ(2, go_num_goroutines()); /* counted before it has run a line */
    int64_t v = 0;
    EXPECT(chan_recv(c, &v));
    EXPECT_EQ(v, 42);
    pthread_join(th, NULL);
    EXPECT_EQ(1, go_num_goroutines()); /* and counted out when it ended */
    chan_free(c);
}

static void *exit_via_pthread_exit(void *arg) {
    (void)arg;
    pthread_exit(NULL);
}

static void pthreads_are_counted_out_however_they_end(void) {
    WAIT_FOR(go_num_goroutines() == 1, 5);
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        EXPECT(pthread_create(&th[i], NULL, exit_via_pthread_exit, NULL) == 0);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    EXPECT_EQ(1, go_num_goroutines());
}

static void *compute_then_return(void *arg) {
    (void)arg;
    compute_for(50 * MILLISECOND);
    return NULL;
}

/* The thread could have sent, until it ended without sending. */
static void deadlock_when_the_last_pthread_exits(void) {
    chan *c = chan_make(sizeof(int64_t), 0);
    pthread_t th;
    EXPECT(pthread_create(&th, NULL, compute_then_return, NULL) == 0);
    pthread_detach(th);
    chan_recv(c, NULL);
}

/* --- many goroutines --- */

/* Threads of this process, other than the caller, not asleep in the kernel right now. */
static int other_threads_awake(void) {
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        int tid = atoi(e->d_name); /* 0 for "." and ".." */
        n += tid != 0 && tid != gettid() && test_thread_state(tid) != 'S';
    }
    if (d)
        closedir(d);
    return n;
}

/* A line of /proc/self/status such as "VmHWM:  123456 kB", in MB. */
static long status_mb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            kb = strtol(line + strlen(field) + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb / 1024;
}

static void ten_thousand_goroutines_blocked_on_one_channel_released_by_close(void) {
    /* ThreadSanitizer stops at about 8,000 live threads (and starts them slowly): its build
     * blocks 1,000 (2,000 took 20 s and 2 GB there). valgrind (TEST_QUICK) allows 500 threads: 200.
     */
#ifdef TEST_TSAN
    int n = QUICK_OR(1000, 200);
#else
    int n = QUICK_OR(10000, 200);
#endif
    WAIT_FOR(go_num_goroutines() == 1, 5);
    task t = {.gate = chan_make(1, 0)};
    for (int i = 0; i < n; i++)
        go(wait_gate, &t);
    WAIT_FOR(atomic_load(&t.started) == n, 30);
    WAIT_FOR(other_threads_awake() == 0, 30); /* all of them blocked in chan_recv */
    long rss = status_mb("VmRSS:");
    chan_close(t.gate);
    WAIT_FOR(atomic_load(&t.finished) == n, 30);
    WAIT_FOR(go_num_goroutines() == 1, 30);
    printf("memory: %d goroutines blocked on one channel: VmRSS %ld MB, peak VmHWM %ld MB "
           "(stack %d KB each)\n",
           n, rss, status_mb("VmHWM:"), GO_STACK_SIZE / 1024);
    chan_free(t.gate);
}

/* --- deadlocks: each ends the process with Go's report, status 2 --- */

static void deadlock_main_recv_with_no_other_goroutine(void) {
    chan *c = chan_make(sizeof(int64_t), 0);
    chan_recv(c, NULL);
}

static void deadlock_main_send_with_no_receiver(void) {
    chan *c = chan_make(sizeof(int64_t), 0);
    chan_send(c, &(int64_t){1});
}

static void deadlock_main_blocked_on_nil_channel(void) {
    chan_recv(NULL, NULL);
}

static void recv_forever(void *arg) {
    chan_recv(arg, NULL);
}

static void deadlock_main_in_wg_wait_others_blocked_on_channel(void) {
    waitgroup wg = WAITGROUP_INIT;
    chan *c = chan_make(sizeof(int64_t), 0);
    for (int i = 0; i < 3; i++)
        wg_go(&wg, recv_forever, c);
    wg_wait(&wg);
}

static void sleep_then_exit(void *arg) {
    (void)arg;
    time_sleep(50 * MILLISECOND);
}

static void deadlock_when_last_goroutine_exits(void) {
    chan *c = chan_make(sizeof(int64_t), 0);
    go(sleep_then_exit, NULL);
    chan_recv(c, NULL); /* not a deadlock yet: the goroutine could still send */
}

static void deadlock_after_the_timer_fired(void) {
    chan *t = time_after(20 * MILLISECOND), *c = chan_make(sizeof(int64_t), 0);
    chan_recv(t, NULL);
    chan_recv(c, NULL); /* nothing pending any more */
}

static void deadlock_after_the_ticker_stopped(void) {
    ticker *tk = ticker_new(10 * MILLISECOND);
    chan_recv(tk->c, NULL);
    ticker_stop(tk);
    chan *c = chan_make(sizeof(int64_t), 0);
    chan_recv(c, NULL);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(go_runs_function_with_its_argument),
        TEST(go_returns_before_the_function_finishes),
        TEST(num_goroutines_counts_main_and_live_goroutines),
        TEST(no_deadlock_while_timer_pending),
        TEST(no_deadlock_while_ticker_runs),
        TEST(no_deadlock_while_a_goroutine_sleeps),
        TEST(no_deadlock_while_signal_context_waits),
        TEST(no_deadlock_while_a_pthread_computes_what_main_waits_for),
        TEST(pthreads_are_counted_out_however_they_end),
        TEST(ten_thousand_goroutines_blocked_on_one_channel_released_by_close),
        TEST_EXIT(deadlock_main_recv_with_no_other_goroutine),
        TEST_EXIT(deadlock_main_send_with_no_receiver),
        TEST_EXIT(deadlock_main_blocked_on_nil_channel),
        TEST_EXIT(deadlock_main_in_wg_wait_others_blocked_on_channel),
        TEST_EXIT(deadlock_when_last_goroutine_exits),
        TEST_EXIT(deadlock_after_the_timer_fired),
        TEST_EXIT(deadlock_after_the_ticker_stopped),
        TEST_EXIT(deadlock_when_the_last_pthread_exits),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
