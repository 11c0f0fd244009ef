/* timer.c: time, timers and tickers, served by one timer thread.
 *
 * The floor above channels: the timer thread delivers on channels (without
 * blocking, as it is no goroutine), and counts pending entries as wakers for
 * the runtime's deadlock detector.
 *
 * Invariants (under heap_mu):
 * - heap is a binary min-heap on when; entry->heap_index is its position, or
 *   NOT_IN_HEAP for an entry that is not armed. An entry is in the heap at
 *   most once.
 * - Every armed entry counts as one waker for the deadlock detector, from
 *   arming until it has fired (value delivered, callback returned) or been
 *   stopped.
 *
 * Locking order: heap_mu, then a channel's lock (delivery and draining happen
 * under heap_mu, so that timer_stop can promise no stale value). Callbacks run
 * with heap_mu released, since they cancel contexts, which stop timers.
 */
#include "common/timer.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/internal/chan_internal.h"
#include "common/internal/clock.h"
#include "common/internal/runtime.h"
#include "common/internal/timer_internal.h"

#define NOT_IN_HEAP SIZE_MAX

static pthread_mutex_t heap_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t heap_cond;  /* signalled when the earliest entry changes */
static struct timer_entry **heap; /* guarded by heap_mu */
static size_t heap_len, heap_cap;
static pthread_once_t timer_thread_once = PTHREAD_ONCE_INIT;

instant time_now(void) {
    return rt_nanotime();
}

duration time_since(instant t) {
    return time_now() - t;
}

static struct timespec to_timespec(instant t) {
    return (struct timespec){.tv_sec = t / SECOND, .tv_nsec = t % SECOND};
}

void time_sleep(duration d) {
    if (d <= 0)
        return;
    struct timespec until = to_timespec(time_now() + d);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
        ;
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

static void *timer_thread(void *unused) {
    (void)unused;
    pthread_mutex_lock(&heap_mu);
    for (;;) {
        if (heap_len == 0) {
            pthread_cond_wait(&heap_cond, &heap_mu);
            continue;
        }
        struct timer_entry *e = heap[0];
        instant now = time_now();
        if (e->when > now) {
            struct timespec until = to_timespec(e->when);
            pthread_cond_timedwait(&heap_cond, &heap_mu, &until);
            continue;
        }
        heap_remove(e);
        if (e->fn) {
            void (*fn)(void *) = e->fn;
            void *arg = e->arg;
            pthread_mutex_unlock(&heap_mu);
            fn(arg); /* may free e: touch it no more */
            sched_waker_end();
            pthread_mutex_lock(&heap_mu);
            continue;
        }
        int64_t fired = now;
        chan_offer(e->c, &fired); /* a slow receiver misses the tick */
        if (e->period > 0) {
            /* Next tick on the period's grid, skipping those already missed. */
            e->when += e->period * (1 + (now - e->when) / e->period);
            heap_push(e);
            continue;
        }
        if (e->one_shot_owned) {
            chan_free(e->c);
            free(e);
        }
        sched_waker_end();
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
    if (pthread_create(&tid, &tattr, timer_thread, NULL) != 0)
        go_fatal("cannot start the timer thread");
    pthread_attr_destroy(&tattr);
}

void timer_entry_start(struct timer_entry *e) {
    pthread_once(&timer_thread_once, timer_thread_start);
    sched_waker_begin();
    pthread_mutex_lock(&heap_mu);
    heap_push(e);
    if (e->heap_index == 0)
        pthread_cond_signal(&heap_cond);
    pthread_mutex_unlock(&heap_mu);
}

bool timer_entry_stop(struct timer_entry *e) {
    pthread_mutex_lock(&heap_mu);
    bool armed = e->heap_index != NOT_IN_HEAP;
    if (armed)
        heap_remove(e);
    bool drained = e->c && chan_poll(e->c, NULL);
    pthread_mutex_unlock(&heap_mu);
    if (armed)
        sched_waker_end();
    return armed || drained;
}

static struct timer_entry *entry_new(duration d, duration period, size_t cap) {
    struct timer_entry *e = xcalloc(1, sizeof *e);
    e->when = time_now() + (d > 0 ? d : 0);
    e->period = period;
    e->c = chan_make(sizeof(int64_t), cap);
    e->heap_index = NOT_IN_HEAP;
    return e;
}

chan *time_after(duration d) {
    struct timer_entry *e = entry_new(d, 0, 1);
    e->one_shot_owned = true;
    chan *c = chan_ref(e->c);
    timer_entry_start(e);
    return c;
}

timer *timer_new(duration d) {
    timer *t = xmalloc(sizeof *t);
    t->entry = entry_new(d, 0, 1);
    t->c = t->entry->c;
    timer_entry_start(t->entry);
    return t;
}

bool timer_stop(timer *t) {
    return timer_entry_stop(t->entry);
}

bool timer_reset(timer *t, duration d) {
    bool active = timer_entry_stop(t->entry);
    t->entry->when = time_now() + (d > 0 ? d : 0);
    timer_entry_start(t->entry);
    return active;
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
    t->entry = entry_new(period, period, 1);
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
    timer_entry_stop(t->entry);
    t->entry->period = period;
    t->entry->when = time_now() + period;
    timer_entry_start(t->entry);
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
