/* timer.c: time, timers and tickers, served by one timer thread.
 *
 * The floor above channels: the timer thread delivers on channels (without
 * blocking, as it is no goroutine), and counts pending entries as wakers for
 * the runtime's deadlock detector.
 *
 * Invariants (under heap_mu):
 * - heap is a binary min-heap on when; entry->heap_index is its position, or
 *   NOT_IN_HEAP for an entry that is not armed. An entry is in the heap at
 *   most once: every change of an entry (arm, stop, reset, fire, and the
 *   when and period it fires with) happens in one critical section of
 *   heap_mu, so Stop and Reset are atomic per timer whoever calls them.
 * - An entry counts as one waker for the deadlock detector exactly while it
 *   is in the heap, and a callback entry also while its callback runs.
 * - A time_after entry is in the heap exactly while its channel's release_arg
 *   points to it. Whichever comes first, its fire or the channel's last
 *   chan_free (time_after_released), takes it out, clears that pointer and
 *   frees it: a channel given back before it fired leaves nothing behind.
 *
 * Locking order: heap_mu, then a channel's lock (delivery and draining happen
 * under heap_mu, so that timer_stop can promise no stale value). Callbacks run
 * with heap_mu released, since they cancel contexts, which stop timers.
 *
 * Fairness: a ticker whose period is shorter than a fire is due again as soon
 * as it has fired, so the timer thread may never wait. Each pass fires what
 * was due at the instant the pass began, each entry once (a ticker re-armed
 * meanwhile is due after that instant), and after each fire the thread lets
 * in every goroutine that asked for heap_mu before (heap_asked, heap_got): a
 * plain mutex given back and taken again at once would stay the thread's.
 */
#include "common/timer.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/internal/chan_internal.h"
#include "common/internal/clock.h"
#include "common/internal/os.h"
#include "common/internal/runtime.h"
#include "common/internal/timer_internal.h"

#define NOT_IN_HEAP SIZE_MAX
#define NEVER       INT64_MAX /* an instant no clock reaches */

static pthread_mutex_t heap_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t heap_cond;  /* signalled when the earliest entry changes */
static struct timer_entry **heap; /* guarded by heap_mu */
static size_t heap_len, heap_cap;
static pthread_once_t timer_thread_once = PTHREAD_ONCE_INIT;
/* Acquisitions of heap_mu by anyone but the timer thread's loop: asked for,
 * and got. The loop lets the lock go until got catches up with asked. */
static atomic_uint heap_asked, heap_got;

instant time_now(void) {
    return rt_nanotime();
}

duration time_since(instant t) {
    return time_now() - t;
}

static struct timespec to_timespec(instant t) {
    return (struct timespec){.tv_sec = t / SECOND, .tv_nsec = t % SECOND};
}

/* t + d for d >= 0, NEVER where that would overflow (time_after of a
 * hundred years). */
static instant later(instant t, duration d) {
    return d > NEVER - t ? NEVER : t + d;
}

/* The instant d from now; d <= 0 is now. */
static instant deadline_after(duration d) {
    return later(time_now(), d > 0 ? d : 0);
}

void time_sleep(duration d) {
    if (d <= 0)
        return;
    struct timespec until = to_timespec(deadline_after(d));
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
        ;
}

static void heap_lock(void) {
    atomic_fetch_add_explicit(&heap_asked, 1, memory_order_relaxed);
    pthread_mutex_lock(&heap_mu);
    atomic_fetch_add_explicit(&heap_got, 1, memory_order_relaxed);
}

static void heap_unlock(void) {
    pthread_mutex_unlock(&heap_mu);
}

static void heap_swap(size_t i, size_t j) {
    struct timer_entry *t = heap[i];
    heap[i] = heap[j];
    heap[j] = t;
    heap[i]->heap_index = i;
    heap[j]->heap_index = j;
}

static void heap_up(size_t i) {
    while (i > 0 && heap[(i - 1) / 2]->when > heap[i]->when) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < heap_len && heap[l]->when < heap[m]->when)
            m = l;
        if (r < heap_len && heap[r]->when < heap[m]->when)
            m = r;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

static void heap_push(struct timer_entry *e) {
    RT_CHECK(e->heap_index == NOT_IN_HEAP, "timer: an entry armed twice");
    if (heap_len == heap_cap) {
        heap_cap = heap_cap ? 2 * heap_cap : 64;
        heap = realloc(heap, heap_cap * sizeof *heap);
        if (!heap)
            go_fatal("out of memory");
    }
    e->heap_index = heap_len;
    heap[heap_len++] = e;
    heap_up(e->heap_index);
    if (e->heap_index == 0) /* the earliest now: the thread may sleep too long */
        pthread_cond_signal(&heap_cond);
}

static void heap_remove(struct timer_entry *e) {
    size_t i = e->heap_index;
    RT_CHECK(i < heap_len && heap[i] == e, "timer: removing an entry that is not in the heap");
    heap_len--;
    if (i != heap_len) {
        heap[i] = heap[heap_len];
        heap[i]->heap_index = i;
        heap_down(i);
        heap_up(i);
    }
    e->heap_index = NOT_IN_HEAP;
}

/* The timer thread, between two fires: if anyone asked for heap_mu
 * meanwhile, let it go until they all had it. */
static void let_others_in(void) {
    unsigned asked = atomic_load_explicit(&heap_asked, memory_order_relaxed);
    if (asked == atomic_load_explicit(&heap_got, memory_order_relaxed))
        return;
    pthread_mutex_unlock(&heap_mu);
    while ((int)(atomic_load_explicit(&heap_got, memory_order_relaxed) - asked) < 0)
        sched_yield();
    pthread_mutex_lock(&heap_mu);
}

/* Fires e, the earliest entry, due at now (heap_mu held; a callback runs
 * with it released). */
static void fire(struct timer_entry *e, instant now) {
    heap_remove(e);
    if (e->fn) {
        void (*fn)(void *) = e->fn;
        void *arg = e->arg;
        pthread_mutex_unlock(&heap_mu);
        fn(arg); /* may free e: touch it no more */
        sched_waker_end();
        pthread_mutex_lock(&heap_mu);
        return;
    }
    int64_t fired = now;
    chan_offer(e->c, &fired); /* a slow receiver misses the tick */
    if (e->period > 0) {
        /* The next tick on the period's grid after now, skipping those
         * missed: after now, so this pass does not fire it again. */
        e->when = later(now, e->period - (now - e->when) % e->period);
        heap_push(e);
        return; /* still armed: still a waker */
    }
    if (e->one_shot_owned) {
        /* Its last chan_free has nothing to do now. */
        atomic_store_explicit(&e->c->release_arg, NULL, memory_order_release);
        free(e);
    }
    sched_waker_end();
}

static void *timer_thread(void *unused) {
    (void)unused;
    pthread_mutex_lock(&heap_mu);
    for (;;) {
        if (heap_len == 0) {
            pthread_cond_wait(&heap_cond, &heap_mu);
            continue;
        }
        instant now = time_now();
        if (heap[0]->when > now) {
            struct timespec until = to_timespec(heap[0]->when);
            pthread_cond_timedwait(&heap_cond, &heap_mu, &until);
            continue;
        }
        /* A pass: everything due at now, each entry once. */
        while (heap_len > 0 && heap[0]->when <= now) {
            fire(heap[0], now);
            let_others_in();
        }
    }
    return NULL;
}

static void timer_thread_start(void) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&heap_cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_t tid;
    pthread_attr_t tattr;
    pthread_attr_init(&tattr);
    pthread_attr_setdetachstate(&tattr, PTHREAD_CREATE_DETACHED);
    if (rt_thread_create(&tid, &tattr, timer_thread, NULL) != 0)
        go_fatal("cannot start the timer thread");
    pthread_attr_destroy(&tattr);
}

void timer_entry_start(struct timer_entry *e) {
    pthread_once(&timer_thread_once, timer_thread_start);
    heap_lock();
    sched_waker_begin(); /* before it can fire */
    heap_push(e);
    heap_unlock();
}

bool timer_entry_stop(struct timer_entry *e) {
    heap_lock();
    bool armed = e->heap_index != NOT_IN_HEAP;
    if (armed)
        heap_remove(e);
    bool drained = e->c && chan_poll(e->c, NULL);
    heap_unlock();
    if (armed)
        sched_waker_end();
    return armed || drained;
}

bool timer_entry_reset(struct timer_entry *e, instant when, duration period) {
    pthread_once(&timer_thread_once, timer_thread_start);
    heap_lock();
    bool armed = e->heap_index != NOT_IN_HEAP;
    if (armed)
        heap_remove(e); /* and armed again below: the same waker */
    else
        sched_waker_begin();
    bool drained = e->c && chan_poll(e->c, NULL);
    e->when = when;
    e->period = period;
    heap_push(e);
    heap_unlock();
    return armed || drained;
}

size_t timer_heap_len(void) {
    heap_lock();
    size_t n = heap_len;
    heap_unlock();
    return n;
}

size_t timer_heap_count(const struct timer_entry *e) {
    heap_lock();
    size_t n = 0;
    for (size_t i = 0; i < heap_len; i++)
        n += heap[i] == e;
    heap_unlock();
    return n;
}

static struct timer_entry *entry_new(duration d, duration period) {
    struct timer_entry *e = xcalloc(1, sizeof *e);
    e->when = deadline_after(d);
    e->period = period;
    e->c = chan_make(sizeof(int64_t), 1);
    e->heap_index = NOT_IN_HEAP;
    return e;
}

/* The last chan_free of a time_after channel: if its entry has not fired,
 * it leaves the heap now, and no longer counts as a waker. */
static void time_after_released(chan *c) {
    /* Fired already, as it has when its value was received: nothing to take
     * off, and no heap_mu to ask for (the timer thread, firing, lets every
     * asker in before its next fire, so one lock per received time_after
     * cost a thread handoff each: 100,000 timers due 2 us apart fired up to
     * 100 ms late). The entry is only cleared under heap_mu, so NULL here
     * stays NULL. */
    if (!atomic_load_explicit(&c->release_arg, memory_order_acquire))
        return;
    heap_lock();
    struct timer_entry *e = atomic_load_explicit(&c->release_arg, memory_order_relaxed);
    if (e) {
        heap_remove(e);
        atomic_store_explicit(&c->release_arg, NULL, memory_order_relaxed);
    }
    heap_unlock();
    if (e) {
        free(e);
        sched_waker_end();
    }
}

chan *time_after(duration d) {
    struct timer_entry *e = entry_new(d, 0);
    e->one_shot_owned = true;
    chan *c = e->c; /* the caller's reference: the entry holds none */
    c->release = time_after_released;
    atomic_store_explicit(&c->release_arg, e, memory_order_relaxed); /* c not shared yet */
    timer_entry_start(e); /* from here on e may be gone: it fired, or c was freed */
    return c;
}

timer *timer_new(duration d) {
    timer *t = xmalloc(sizeof *t);
    t->entry = entry_new(d, 0);
    t->c = t->entry->c;
    timer_entry_start(t->entry);
    return t;
}

bool timer_stop(timer *t) {
    return timer_entry_stop(t->entry);
}

bool timer_reset(timer *t, duration d) {
    return timer_entry_reset(t->entry, deadline_after(d), 0);
}

void timer_free(timer *t) {
    if (!t)
        return;
    timer_entry_stop(t->entry);
    chan_free(t->entry->c);
    free(t->entry);
    free(t);
}

ticker *ticker_new(duration period) {
    if (period <= 0)
        go_panic("non-positive interval for NewTicker");
    ticker *t = xmalloc(sizeof *t);
    t->entry = entry_new(period, period);
    t->c = t->entry->c;
    timer_entry_start(t->entry);
    return t;
}

void ticker_stop(ticker *t) {
    timer_entry_stop(t->entry);
}

void ticker_reset(ticker *t, duration period) {
    if (period <= 0)
        go_panic("non-positive interval for Ticker.Reset");
    timer_entry_reset(t->entry, deadline_after(period), period);
}

void ticker_free(ticker *t) {
    if (!t)
        return;
    timer_entry_stop(t->entry);
    chan_free(t->entry->c);
    free(t->entry);
    free(t);
}

/* Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?unit)+ or "0", in
 * integers so that nothing is lost or overflows unnoticed. */
bool duration_parse(const char *s, duration *out) {
    static const struct {
        const char *name;
        uint64_t unit;
    } units[] = {{"ns", 1},       {"us", 1000},      {"\u00b5s", 1000},  {"\u03bcs", 1000},
                 {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000}, {"h", 3600000000000}};
    const uint64_t limit = (uint64_t)1 << 63;
    if (!s)
        return false;
    bool negative = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (strcmp(s, "0") == 0) {
        *out = 0;
        return true;
    }
    if (!*s)
        return false;
    uint64_t total = 0;
    while (*s) {
        uint64_t whole = 0, frac = 0, scale = 1;
        bool digits = false;
        for (; isdigit((unsigned char)*s); s++, digits = true) {
            if (whole > (limit - 9) / 10)
                return false;
            whole = whole * 10 + (uint64_t)(*s - '0');
        }
        if (*s == '.') {
            for (s++; isdigit((unsigned char)*s); s++, digits = true) {
                if (scale < 1000000000000000000u) { /* further digits cannot matter */
                    frac = frac * 10 + (uint64_t)(*s - '0');
                    scale *= 10;
                }
            }
        }
        if (!digits)
            return false;
        size_t len = 0;
        while (s[len] && s[len] != '.' && !isdigit((unsigned char)s[len]))
            len++;
        uint64_t unit = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].name) == len && strncmp(s, units[i].name, len) == 0)
                unit = units[i].unit;
        if (!unit || whole > limit / unit)
            return false;
        s += len;
        uint64_t v = whole * unit + (uint64_t)((long double)frac * unit / scale);
        if (v > limit || total > limit - v)
            return false;
        total += v;
    }
    if (total == limit && !negative)
        return false;
    *out = negative ? (duration)(0 - total) : (duration)total;
    return true;
}

/* Go's fmtFrac: the fraction of v / 10^prec written backwards before end,
 * trailing zeros (and the point, if nothing is left) dropped; *v keeps the
 * integer part. */
static char *put_frac(char *end, uint64_t *v, int prec) {
    bool print = false;
    for (int i = 0; i < prec; i++) {
        unsigned digit = (unsigned)(*v % 10);
        print = print || digit != 0;
        if (print)
            *--end = (char)('0' + digit);
        *v /= 10;
    }
    if (print)
        *--end = '.';
    return end;
}

static char *put_int(char *end, uint64_t v) {
    do
        *--end = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    return end;
}

char *duration_string(duration d, char *buf) {
    char tmp[DURATION_STRING_SIZE];
    char *end = tmp + sizeof tmp, *w = end;
    uint64_t u = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
    *--w = 's';
    if (u == 0) {
        *--w = '0';
    } else if (u < (uint64_t)SECOND) { /* smaller units: 1.2ms, 500us */
        int prec = 0;
        if (u < (uint64_t)MICROSECOND) {
            *--w = 'n';
        } else if (u < (uint64_t)MILLISECOND) {
            prec = 3;
            *--w = '\xb5'; /* U+00B5, the micro sign, in UTF-8 */
            *--w = '\xc2';
        } else {
            prec = 6;
            *--w = 'm';
        }
        w = put_frac(w, &u, prec);
        w = put_int(w, u);
    } else {
        w = put_frac(w, &u, 9); /* u is now whole seconds */
        w = put_int(w, u % 60);
        if ((u /= 60) > 0) { /* minutes */
            *--w = 'm';
            w = put_int(w, u % 60);
            if ((u /= 60) > 0) { /* hours */
                *--w = 'h';
                w = put_int(w, u);
            }
        }
    }
    if (d < 0)
        *--w = '-';
    memcpy(buf, w, (size_t)(end - w));
    buf[end - w] = '\0';
    return buf;
}
