/* go.c: goroutines: starting them, their records, and the idle threads that
 * run the next one. A goroutine is a detached POSIX thread.
 *
 * Invariants:
 * - goroutines counts the live goroutines, main, the threads made by the
 *   program's pthread_create and those that met common/ (g_current)
 *   included; it never goes below zero.
 *   Each of them is also counted running in sched.c from its start to its
 *   end, except while parked.
 * - A struct g is never freed: a finished goroutine's record goes on the free
 *   list for reuse (see sched.c for why a reused record is safe).
 * - A finished goroutine's thread stays idle for a while (IDLE_LINGER_SECONDS,
 *   at most IDLE_MAX of them), and go() hands it the next function instead of
 *   asking the kernel for a new thread. Idle threads are not goroutines: they
 *   are not counted by the deadlock detector nor by go_num_goroutines. A
 *   record is on idle_list exactly while its idle flag is set.
 *
 * - live_list holds exactly the goroutines started by go() that have not
 *   returned from their function (the leak check's view); a record is on it
 *   from go_spawn until goroutine_main's fn returns.
 *
 * Locking order: free_mu, idle_mu and live_mu are leaves: each is held for a
 * few list operations and nothing else is taken under it (go_leaks prints
 * under live_mu, and printing takes only stdio's lock).
 */
#include "common/go.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/internal/clock.h"
#include "common/internal/os.h"
#include "common/internal/runtime.h"

static atomic_int goroutines; /* alive goroutines, main included */

static pthread_mutex_t free_mu = PTHREAD_MUTEX_INITIALIZER;
static struct g *free_list; /* guarded by free_mu */

/* Idle threads kept for reuse, and how long one waits for work. */
#define IDLE_MAX            256
#define IDLE_LINGER_SECONDS 5

static pthread_mutex_t idle_mu = PTHREAD_MUTEX_INITIALIZER;
static struct g *idle_list; /* guarded by idle_mu */
static int idle_count;      /* guarded by idle_mu */

/* The goroutines started by go() that are still running their function. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct g *live_list;       /* guarded by live_mu */
static atomic_long next_goid = 2; /* main is goroutine 1, as in Go */

static _Thread_local struct g *current;
static pthread_key_t foreign_key; /* destructor counts out foreign threads */
static pthread_once_t foreign_key_once = PTHREAD_ONCE_INIT;

static void goroutine_begin(void) {
    atomic_fetch_add(&goroutines, 1);
    sched_running_begin();
}

static void goroutine_end(void) {
    RT_CHECK(atomic_fetch_sub(&goroutines, 1) > 0, "go: goroutine count below zero");
    sched_running_end();
}

static struct g *g_alloc(void) {
    pthread_mutex_lock(&free_mu);
    struct g *g = free_list;
    if (g)
        free_list = g->next_free;
    pthread_mutex_unlock(&free_mu);
    if (!g)
        g = xcalloc(1, sizeof *g);
    g->fn = NULL;
    g->arg = NULL;
    g->done = NULL;
    g->done_arg = NULL;
    g->next_free = NULL;
    g_park_init(g);
    return g;
}

static void g_release(struct g *g) {
    pthread_mutex_lock(&free_mu);
    g->next_free = free_list;
    free_list = g;
    pthread_mutex_unlock(&free_mu);
}

static void foreign_exit(void *p) {
    current = NULL;
    g_release(p);
    goroutine_end();
}

static void foreign_key_create(void) {
    if (pthread_key_create(&foreign_key, foreign_exit) != 0)
        go_fatal("go: cannot create the key of foreign threads");
}

/* Marks the calling thread's record to be counted out when it exits. Once:
 * a library's constructor may make a thread before runtime_init runs. */
static void count_out_at_exit(struct g *g) {
    pthread_once(&foreign_key_once, foreign_key_create);
    pthread_setspecific(foreign_key, g);
}

static void leak_check_at_exit(void);

/* The main thread is a goroutine from the start. 102: after os.c has counted
 * the cores. */
__attribute__((constructor(102))) static void runtime_init(void) {
    current = g_alloc();
    current->goid = rt_goid = 1;
    current->name = "main";
    goroutine_begin();
    const char *check = getenv("GOLEAK");
    if (check && strcmp(check, "1") == 0)
        atexit(leak_check_at_exit);
}

/* A record for a thread not made by go(), counted in from now on. */
static struct g *foreign_begin(void) {
    struct g *g = g_alloc();
    g->goid = atomic_fetch_add(&next_goid, 1);
    goroutine_begin();
    return g;
}

/* Makes g the calling thread's record until the thread exits. */
static void foreign_adopt(struct g *g) {
    current = g;
    rt_goid = g->goid;
    count_out_at_exit(g);
}

struct g *g_current(void) {
    if (!current) /* a thread made without our pthread_create */
        foreign_adopt(foreign_begin());
    return current;
}

/* A thread the program makes with pthread_create is a goroutine from birth.
 * Counted only at its first channel operation, it could leave main blocked on
 * what it is computing with nothing counted running: a false deadlock report.
 * So common/ defines pthread_create: the creator counts the thread in before
 * it exists, its record is ready when it starts, and foreign_exit counts it
 * out when it ends (return, pthread_exit or cancellation). The runtime's own
 * threads are made with rt_thread_create, the real one, and are not counted. */
struct thread_start {
    void *(*fn)(void *);
    void *arg;
    struct g *g;
};

static void *thread_main(void *p) {
    struct thread_start start = *(struct thread_start *)p;
    free(p);
    foreign_adopt(start.g);
    return start.fn(start.arg);
}

int pthread_create(pthread_t *restrict tid, const pthread_attr_t *restrict attr,
                   void *(*fn)(void *), void *restrict arg) {
    struct thread_start *start = malloc(sizeof *start);
    if (!start)
        return EAGAIN;
    start->fn = fn;
    start->arg = arg;
    start->g = foreign_begin(); /* counted in before the thread exists */
    int err = rt_thread_create(tid, attr, thread_main, start);
    if (err != 0) {
        g_release(start->g);
        free(start);
        goroutine_end(); /* we run: the count stays above zero */
    }
    return err;
}

_Noreturn void g_block_forever(void) {
    /* g_current first: a thread met for the first time is counted in before
     * it counts itself out. */
    (void)g_current();
    sched_running_end();
    for (;;)
        pause();
}

/* Offers the thread of a finished goroutine for reuse; returns true when
 * go() handed it a new function, false when it should exit. */
static bool idle_wait(struct g *g) {
    atomic_store_explicit(&g->has_work, 0, memory_order_relaxed);
    pthread_mutex_lock(&idle_mu);
    if (idle_count >= IDLE_MAX) {
        pthread_mutex_unlock(&idle_mu);
        return false;
    }
    g->next_idle = idle_list;
    idle_list = g;
    g->idle = true;
    idle_count++;
    pthread_mutex_unlock(&idle_mu);

    int64_t deadline = rt_nanotime() + IDLE_LINGER_SECONDS * NS_PER_SEC;
    while (!atomic_load_explicit(&g->has_work, memory_order_acquire)) {
        int64_t left = deadline - rt_nanotime();
        if (left <= 0) {
            pthread_mutex_lock(&idle_mu);
            bool still_idle = g->idle;
            if (still_idle) {
                struct g **p = &idle_list;
                while (*p != g) {
                    RT_CHECK(*p != NULL, "go: an idle thread missing from the idle list");
                    p = &(*p)->next_idle;
                }
                *p = g->next_idle;
                g->idle = false;
                idle_count--;
            }
            pthread_mutex_unlock(&idle_mu);
            if (still_idle)
                return false;
            deadline = rt_nanotime() + NS_PER_SEC; /* go() took us meanwhile: wait for it */
            continue;
        }
        futex_wait_for(&g->has_work, 0, left);
    }
    return true;
}

static void live_add(struct g *g, const char *name) {
    g->name = name;
    g->goid = atomic_fetch_add(&next_goid, 1);
    pthread_mutex_lock(&live_mu);
    g->live_prev = NULL;
    g->live_next = live_list;
    if (live_list)
        live_list->live_prev = g;
    live_list = g;
    pthread_mutex_unlock(&live_mu);
}

static void live_remove(struct g *g) {
    pthread_mutex_lock(&live_mu);
    RT_CHECK(g->live_prev || live_list == g, "go: a goroutine missing from the live list");
    if (g->live_prev)
        g->live_prev->live_next = g->live_next;
    else
        live_list = g->live_next;
    if (g->live_next)
        g->live_next->live_prev = g->live_prev;
    g->live_prev = g->live_next = NULL;
    pthread_mutex_unlock(&live_mu);
}

static void *goroutine_main(void *p) {
    struct g *g = p;
    current = g;
    do {
        RT_CHECK(g->fn != NULL, "go: a goroutine with no function");
        rt_goid = g->goid;
        g->fn(g->arg);
        live_remove(g);
        if (g->done)
            g->done(g->done_arg);
        goroutine_end();
    } while (idle_wait(g));
    current = NULL;
    g_release(g);
    return NULL;
}

/* Hands fn to an idle thread, if there is one. */
static bool reuse_idle(void (*fn)(void *), void *arg, const char *name, void (*done)(void *),
                       void *done_arg) {
    pthread_mutex_lock(&idle_mu);
    struct g *g = idle_list;
    if (g) {
        RT_CHECK(g->idle, "go: a thread on the idle list that is not idle");
        idle_list = g->next_idle;
        g->idle = false;
        idle_count--;
    }
    pthread_mutex_unlock(&idle_mu);
    if (!g)
        return false;
    g->fn = fn;
    g->arg = arg;
    g->done = done;
    g->done_arg = done_arg;
    live_add(g, name);
    atomic_store_explicit(&g->has_work, 1, memory_order_release);
    futex_wake(&g->has_work);
    return true;
}

void go_spawn(void (*fn)(void *), void *arg, const char *name, void (*done)(void *),
              void *done_arg) {
    goroutine_begin();
    if (reuse_idle(fn, arg, name, done, done_arg))
        return;
    struct g *g = g_alloc();
    g->fn = fn;
    g->arg = arg;
    g->done = done;
    g->done_arg = done_arg;
    live_add(g, name);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    size_t stack = GO_STACK_SIZE;
    if (stack < (size_t)PTHREAD_STACK_MIN)
        stack = PTHREAD_STACK_MIN;
    pthread_attr_setstacksize(&attr, stack);
    pthread_t tid;
    int err = rt_thread_create(&tid, &attr, goroutine_main, g);
    pthread_attr_destroy(&attr);
    if (err != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "go: cannot start goroutine: %s", strerror(err));
        go_fatal(msg);
    }
}

void go_named(void (*fn)(void *), void *arg, const char *name) {
    go_spawn(fn, arg, name, NULL, NULL);
}

/* How many goroutines of the live list are not the caller. */
static int others_alive(void) {
    pthread_mutex_lock(&live_mu);
    int n = 0;
    for (struct g *g = live_list; g; g = g->live_next)
        n += g != current;
    pthread_mutex_unlock(&live_mu);
    return n;
}

int go_leaks(long long within_ns) {
    /* goleak's retry: a goroutine ends a moment after its last statement. */
    int64_t deadline = rt_nanotime() + within_ns;
    while (others_alive() > 0 && rt_nanotime() < deadline) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    pthread_mutex_lock(&live_mu);
    int n = 0;
    for (struct g *g = live_list; g; g = g->live_next) {
        if (g == current)
            continue;
        fprintf(stderr, "leak: goroutine %ld [%s], started in %s\n", g->goid,
                g_asleep(g) ? "blocked" : "running", g->name ? g->name : "?");
        n++;
    }
    pthread_mutex_unlock(&live_mu);
    return n;
}

/* GOLEAK=1: the leak check when main returns. A leak ends the process with
 * status 3, after the list; what main printed goes out first. */
static void leak_check_at_exit(void) {
    fflush(stdout);
    int n = go_leaks(NS_PER_SEC);
    if (n > 0) {
        fprintf(stderr, "leak: %d goroutine%s still running when main returned\n", n,
                n == 1 ? "" : "s");
        _exit(3);
    }
}

int go_num_goroutines(void) {
    return atomic_load(&goroutines);
}
