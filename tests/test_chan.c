/* test_chan.c: channels (common/chan.h), proven row by row against common/SEMANTICS.md.
 *
 * Each case names the property it proves. Blocking is observed from outside: a
 * goroutine records its thread id just before the operation, and WAIT_BLOCKED
 * waits for the kernel to show it asleep; a "still blocked" check then gives the
 * goroutine time to misbehave, so a broken channel shows as a failure.
 */
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "common/chan.h"
#include "common/go.h"
#include "common/select.h"
#include "common/sync.h"
#include "common/timer.h"
#include "testlib.h"

/* One channel operation done by a goroutine, watched by the test. */
typedef struct op {
    chan *c;
    int64_t v;        /* send: the value sent; receive: the value received */
    bool ok;          /* receive: what chan_recv returned */
    atomic_int tid;   /* the goroutine's thread id, stored just before the operation */
    atomic_bool done; /* set once the operation returned */
} op;

static void do_send(void *arg) {
    op *o = arg;
    atomic_store(&o->tid, gettid());
    chan_send(o->c, &o->v);
    atomic_store(&o->done, true);
}

static void do_recv(void *arg) {
    op *o = arg;
    atomic_store(&o->tid, gettid());
    o->ok = chan_recv(o->c, &o->v);
    atomic_store(&o->done, true);
}

static int64_t recv_value(chan *c) {
    int64_t v = -1;
    EXPECT(chan_recv(c, &v));
    return v;
}

static void send_value(chan *c, int64_t v) {
    chan_send(c, &v);
}

/* --- nil channel --- */

static void nil_channel_send_blocks_forever(void) {
    static op o = {.c = NULL, .v = 1}; /* static: the goroutine never returns */
    go(do_send, &o);
    WAIT_BLOCKED(&o.tid);
    time_sleep(TEST_SECONDS(0.1));
    EXPECT(!atomic_load(&o.done));
}

static void nil_channel_recv_blocks_forever(void) {
    static op o = {.c = NULL};
    go(do_recv, &o);
    WAIT_BLOCKED(&o.tid);
    time_sleep(TEST_SECONDS(0.1));
    EXPECT(!atomic_load(&o.done));
}

static void nil_channel_len_and_cap_are_zero(void) {
    EXPECT_EQ(0, chan_len(NULL));
    EXPECT_EQ(0, chan_cap(NULL));
    EXPECT(chan_ref(NULL) == NULL);
    chan_free(NULL);
}

static void close_of_nil_channel_panics(void) {
    chan_close(NULL);
}

/* --- open channel --- */

static void unbuffered_send_blocks_until_received(void) {
    op o = {.c = chan_make(sizeof(int64_t), 0), .v = 42};
    go(do_send, &o);
    WAIT_BLOCKED(&o.tid);
    EXPECT(!atomic_load(&o.done));
    EXPECT_EQ(42, recv_value(o.c));
    WAIT_FOR(atomic_load(&o.done), 5);
    chan_free(o.c);
}

static void buffered_send_blocks_while_buffer_full(void) {
    op o = {.c = chan_make(sizeof(int64_t), 2), .v = 3};
    send_value(o.c, 1); /* room in the buffer: these return at once */
    send_value(o.c, 2);
    EXPECT_EQ(2, chan_len(o.c));
    go(do_send, &o);
    WAIT_BLOCKED(&o.tid);
    EXPECT(!atomic_load(&o.done));
    EXPECT_EQ(1, recv_value(o.c));
    WAIT_FOR(atomic_load(&o.done), 5);
    EXPECT_EQ(2, chan_len(o.c));
    EXPECT_EQ(2, recv_value(o.c));
    EXPECT_EQ(3, recv_value(o.c));
    chan_free(o.c);
}

static void recv_blocks_until_value_sent(void) {
    for (size_t cap = 0; cap <= 4; cap += 4) {
        op o = {.c = chan_make(sizeof(int64_t), cap), .v = -1};
        go(do_recv, &o);
        WAIT_BLOCKED(&o.tid);
        EXPECT(!atomic_load(&o.done));
        send_value(o.c, 7);
        WAIT_FOR(atomic_load(&o.done), 5);
        EXPECT(o.ok);
        EXPECT_EQ(7, o.v);
        chan_free(o.c);
    }
}

static void buffered_values_come_out_in_order_sent(void) {
    chan *c = chan_make(sizeof(int64_t), 100);
    for (int64_t i = 0; i < 100; i++)
        send_value(c, i);
    for (int64_t i = 0; i < 100; i++)
        EXPECT_EQ(i, recv_value(c));
    chan_free(c);
}

typedef struct fifo_sender {
    chan *c;
    int64_t id, n;
} fifo_sender;

static void send_sequence(void *arg) {
    fifo_sender *s = arg;
    for (int64_t seq = 0; seq < s->n; seq++)
        send_value(s->c, s->id << 32 | seq);
}

static void each_senders_values_arrive_in_order(void) {
    enum { SENDERS = 4 };
    int64_t n = QUICK_OR(20000, 1000);
    for (size_t cap = 0; cap <= 3; cap += 3) {
        chan *c = chan_make(sizeof(int64_t), cap);
        fifo_sender s[SENDERS];
        waitgroup wg = WAITGROUP_INIT; /* s lives on this stack: wait before it goes */
        for (int i = 0; i < SENDERS; i++) {
            s[i] = (fifo_sender){c, i, n};
            wg_go(&wg, send_sequence, &s[i]);
        }
        int64_t next[SENDERS] = {0};
        for (int64_t k = 0; k < SENDERS * n; k++) {
            int64_t v = recv_value(c), id = v >> 32, seq = v & 0xffffffff;
            EXPECT(id >= 0 && id < SENDERS);
            if (id >= 0 && id < SENDERS && seq != next[id]++)
                EXPECT_EQ(next[id] - 1, seq);
        }
        wg_wait(&wg);
        chan_free(c);
    }
}

static void blocked_sender_keeps_its_place(void) {
    chan *c = chan_make(sizeof(int64_t), 1);
    send_value(c, 0);
    op a = {.c = c, .v = 1}, b = {.c = c, .v = 2};
    go(do_send, &a);
    WAIT_BLOCKED(&a.tid);
    go(do_send, &b);
    WAIT_BLOCKED(&b.tid);
    EXPECT_EQ(0, recv_value(c));
    /* A newcomer finds the slot already taken by a, the first blocked sender. */
    int64_t newcomer = 99;
    select_case cs[] = {select_send(c, &newcomer)};
    EXPECT_EQ(SELECT_DEFAULT, chan_select_default(cs, 1));
    EXPECT_EQ(1, recv_value(c));
    EXPECT_EQ(2, recv_value(c));
    WAIT_FOR(atomic_load(&a.done) && atomic_load(&b.done), 5);
    EXPECT_EQ(0, chan_len(c));
    chan_free(c);
}

typedef struct triple {
    int64_t a, b, c;
} triple;

static void copy_triples(void *arg) {
    chan *c = arg;
    triple t;
    for (int64_t i = 0; i < 1000; i++) {
        t = (triple){i, -i, i * 3}; /* reuses t as soon as the send returns */
        chan_send(c, &t);
    }
}

static void sender_may_reuse_its_variable_after_send(void) {
    chan *c = chan_make(sizeof(triple), 4);
    EXPECT_EQ(4, chan_cap(c));
    triple t = {1, 2, 3};
    chan_send(c, &t);
    t = (triple){4, 5, 6};
    chan_send(c, &t);
    t = (triple){0, 0, 0};
    triple got;
    EXPECT(chan_recv(c, &got));
    EXPECT(got.a == 1 && got.b == 2 && got.c == 3);
    EXPECT(chan_recv(c, &got));
    EXPECT(got.a == 4 && got.b == 5 && got.c == 6);
    chan_free(c);

    c = chan_make(sizeof(triple), 0);
    go(copy_triples, c);
    for (int64_t i = 0; i < 1000; i++) {
        EXPECT(chan_recv(c, &got));
        if (got.a != i || got.b != -i || got.c != i * 3)
            EXPECT_EQ(i, got.a);
    }
    chan_free(c);
}

static void recv_with_null_elem_discards_value(void) {
    chan *c = chan_make(sizeof(int64_t), 1);
    send_value(c, 5);
    EXPECT(chan_recv(c, NULL));
    EXPECT_EQ(0, chan_len(c));
    chan_free(c);
}

static void len_and_cap_count_buffered_elements(void) {
    chan *c = chan_make(sizeof(int64_t), 4);
    EXPECT_EQ(0, chan_len(c));
    EXPECT_EQ(4, chan_cap(c));
    for (int i = 0; i < 3; i++)
        send_value(c, i);
    EXPECT_EQ(3, chan_len(c));
    recv_value(c);
    EXPECT_EQ(2, chan_len(c));
    chan_close(c);
    EXPECT_EQ(2, chan_len(c)); /* closed: still buffered */
    EXPECT_EQ(4, chan_cap(c));
    recv_value(c);
    recv_value(c);
    EXPECT_EQ(0, chan_len(c));
    chan_free(c);

    /* Unbuffered: a blocked sender is not an element. */
    op o = {.c = chan_make(sizeof(int64_t), 0), .v = 1};
    EXPECT_EQ(0, chan_cap(o.c));
    go(do_send, &o);
    WAIT_BLOCKED(&o.tid);
    EXPECT_EQ(0, chan_len(o.c));
    recv_value(o.c);
    WAIT_FOR(atomic_load(&o.done), 5);
    chan_free(o.c);
}

static void chan_ref_keeps_channel_until_last_free(void) {
    chan *c = chan_make(sizeof(int64_t), 1);
    chan *r = chan_ref(c);
    EXPECT(r == c);
    chan_free(c); /* one reference left: still usable (ASan/valgrind would catch a free) */
    send_value(r, 3);
    EXPECT_EQ(3, recv_value(r));
    chan_free(r);
}

/* --- elements of size 0: Go's chan struct{} --- */

static void do_send_nothing(void *arg) {
    op *o = arg;
    atomic_store(&o->tid, gettid());
    chan_send(o->c, NULL);
    atomic_store(&o->done, true);
}

static void zero_size_elements_are_chan_struct(void) {
    /* Buffered: NULL goes in and out, nothing is written to a receiver's variable, and the
     * buffer counts, blocks and drains as for any other size. */
    op o = {.c = chan_make(0, 2)};
    EXPECT_EQ(2, chan_cap(o.c));
    chan_send(o.c, NULL);
    chan_send(o.c, NULL);
    EXPECT_EQ(2, chan_len(o.c));
    go(do_send_nothing, &o);
    WAIT_BLOCKED(&o.tid);
    EXPECT(!atomic_load(&o.done));
    unsigned char canary = 0xa5;
    EXPECT(chan_recv(o.c, &canary));
    EXPECT_EQ(0xa5, canary); /* size 0: not a byte copied */
    WAIT_FOR(atomic_load(&o.done), 5);
    EXPECT_EQ(2, chan_len(o.c));
    select_case cs[] = {select_recv(o.c, NULL)};
    EXPECT_EQ(0, chan_select(cs, 1));
    EXPECT(cs[0].ok);
    EXPECT(chan_recv(o.c, NULL));
    EXPECT_EQ(0, chan_len(o.c));
    EXPECT_EQ(SELECT_DEFAULT, chan_select_default(cs, 1));
    select_case out[] = {select_send(o.c, NULL)};
    EXPECT_EQ(0, chan_select_default(out, 1));
    chan_close(o.c);
    EXPECT(chan_recv(o.c, NULL)); /* buffered first */
    EXPECT(!chan_recv(o.c, &canary));
    EXPECT_EQ(0xa5, canary); /* the zero value of struct{} is no byte either */
    chan_free(o.c);

    /* Unbuffered: the send blocks until a receiver takes it, in both directions. */
    op s = {.c = chan_make(0, 0)};
    go(do_send_nothing, &s);
    WAIT_BLOCKED(&s.tid);
    EXPECT(!atomic_load(&s.done));
    EXPECT(chan_recv(s.c, &canary));
    EXPECT_EQ(0xa5, canary);
    WAIT_FOR(atomic_load(&s.done), 5);
    op r = {.c = s.c, .v = 7};
    go(do_recv, &r);
    WAIT_BLOCKED(&r.tid);
    chan_send(s.c, NULL);
    WAIT_FOR(atomic_load(&r.done), 5);
    EXPECT(r.ok);
    EXPECT_EQ(7, r.v); /* do_recv's variable untouched */
    /* Close wakes a blocked receiver, and its variable stays as it was. */
    op z = {.c = s.c, .v = 9, .ok = true};
    go(do_recv, &z);
    WAIT_BLOCKED(&z.tid);
    chan_close(s.c);
    WAIT_FOR(atomic_load(&z.done), 5);
    EXPECT(!z.ok);
    EXPECT_EQ(9, z.v);
    chan_free(s.c);
}

/* --- closed channel --- */

static void recv_on_closed_returns_buffered_then_zero_false(void) {
    chan *c = chan_make(sizeof(triple), 3);
    for (int64_t i = 1; i <= 3; i++)
        chan_send(c, &(triple){i, i, i});
    chan_close(c);
    triple t;
    for (int64_t i = 1; i <= 3; i++) {
        EXPECT(chan_recv(c, &t));
        EXPECT(t.a == i && t.b == i && t.c == i);
    }
    for (int round = 0; round < 3; round++) { /* and again, at once: never blocks */
        memset(&t, 0x5a, sizeof t);
        EXPECT(!chan_recv(c, &t));
        EXPECT(t.a == 0 && t.b == 0 && t.c == 0);
    }
    EXPECT(!chan_recv(c, NULL));
    chan_free(c);
}

static void close_wakes_every_blocked_receiver(void) {
    enum { N = 5 };
    for (size_t cap = 0; cap <= 2; cap += 2) {
        chan *c = chan_make(sizeof(int64_t), cap);
        op o[N];
        for (int i = 0; i < N; i++) {
            o[i] = (op){.c = c, .v = -1, .ok = true};
            go(do_recv, &o[i]);
        }
        for (int i = 0; i < N; i++)
            WAIT_BLOCKED(&o[i].tid);
        chan_close(c);
        for (int i = 0; i < N; i++) {
            WAIT_FOR(atomic_load(&o[i].done), 5);
            EXPECT(!o[i].ok);
            EXPECT_EQ(0, o[i].v);
        }
        chan_free(c);
    }
}

static void send_sequence_then_close(void *arg) {
    send_sequence(arg);
    chan_close(((fifo_sender *)arg)->c);
}

static void range_ends_when_closed_and_drained(void) {
    for (size_t cap = 0; cap <= 10; cap += 10) {
        fifo_sender s = {chan_make(sizeof(int64_t), cap), 0, 100};
        go(send_sequence_then_close, &s);
        int64_t count = 0, sum = 0, v;
        while (chan_recv(s.c, &v)) { /* for v := range c */
            EXPECT_EQ(count, v);
            count++;
            sum += v;
        }
        EXPECT_EQ(100, count);
        EXPECT_EQ(4950, sum);
        chan_free(s.c);
    }
}

/* --- memory model: plain (non-atomic) data published through the channel; without the
 * happens-before edge ThreadSanitizer reports a race, and the values may read wrong. --- */

enum { MM_ROUNDS = 1000 };
static int64_t plain[MM_ROUNDS];

static void write_then_send(void *arg) {
    for (int64_t i = 0; i < MM_ROUNDS; i++) {
        plain[i] = i * 3;
        send_value(arg, i);
    }
}

static void send_happens_before_receive_completes(void) {
    for (size_t cap = 0; cap <= 8; cap += 8) {
        chan *c = chan_make(sizeof(int64_t), cap);
        go(write_then_send, c);
        for (int64_t i = 0; i < MM_ROUNDS; i++) {
            int64_t k = recv_value(c);
            EXPECT(k >= 0 && k < MM_ROUNDS);
            if (k >= 0 && k < MM_ROUNDS && plain[k] != k * 3)
                EXPECT_EQ(k * 3, plain[k]);
        }
        chan_free(c);
    }
}

static void write_then_recv(void *arg) {
    for (int64_t i = 0; i < MM_ROUNDS; i++) {
        plain[i] = i * 5;
        EXPECT(chan_recv(arg, NULL));
    }
}

static void unbuffered_recv_happens_before_send_completes(void) {
    chan *c = chan_make(sizeof(int64_t), 0);
    go(write_then_recv, c);
    for (int64_t i = 0; i < MM_ROUNDS; i++) {
        send_value(c, i);
        if (plain[i] != i * 5) /* written by the receiver before its receive */
            EXPECT_EQ(i * 5, plain[i]);
    }
    chan_free(c);
}

static void write_then_close(void *arg) {
    plain[0] = 77;
    chan_close(arg);
}

static void close_happens_before_recv_that_returns_false(void) {
    for (int round = 0; round < 100; round++) {
        chan *c = chan_make(sizeof(int64_t), 0);
        go(write_then_close, c);
        EXPECT(!chan_recv(c, NULL));
        EXPECT_EQ(77, plain[0]);
        plain[0] = 0;
        chan_free(c);
    }
}

/* The last receive may free the channel while its sender's call is still on
 * its way out: the send completed for the receiver, and what the sender does
 * after that must not touch the channel (08's tree frees this way; TSan once
 * caught chan_unlock writing to the freed channel). A receiver that blocked
 * first leaves the channel on its locked path, so later sends go through the
 * lock and then open the lock-free path again before they unlock: a lock-free
 * receive can take the last value in between. */
enum { LAST_SENDERS = 4 };

typedef struct last_send {
    chan *c;
    int64_t v;
} last_send;

static void send_last(void *arg) {
    last_send *a = arg;
    chan_send(a->c, &a->v);
}

static void free_right_after_the_last_receive(void) {
    waitgroup wg = WAITGROUP_INIT;
    for (int round = 0; round < QUICK_OR(2000, 50); round++) {
        chan *c = chan_make(sizeof(int64_t), LAST_SENDERS);
        /* Reused next round: each sender has read its own before its value arrives here. */
        last_send a[LAST_SENDERS];
        for (int i = 0; i < LAST_SENDERS; i++) {
            a[i] = (last_send){c, i + 1};
            wg_go(&wg, send_last, &a[i]);
        }
        int64_t v, sum = 0;
        for (int i = 0; i < LAST_SENDERS; i++) {
            EXPECT(chan_recv(c, &v));
            sum += v;
        }
        EXPECT_EQ(LAST_SENDERS * (LAST_SENDERS + 1) / 2, sum);
        chan_free(c); /* the senders may not have returned yet */
    }
    wg_wait(&wg);
}

/* --- stress --- */

/* Many senders and receivers on one channel: every value received exactly once. */
typedef struct mpmc {
    chan *c;
    int64_t n;
    atomic_int next_id;          /* hands each sender its id */
    _Atomic unsigned char *seen; /* per value: how many times it was received */
    atomic_llong count, sum;
} mpmc;

enum { MPMC_SENDERS = 8, MPMC_RECEIVERS = 8 };

static void mpmc_send(void *arg) {
    mpmc *m = arg;
    for (int64_t v = atomic_fetch_add(&m->next_id, 1); v < m->n; v += MPMC_SENDERS)
        chan_send(m->c, &v);
}

static void mpmc_recv(void *arg) {
    mpmc *m = arg;
    int64_t v, count = 0, sum = 0;
    while (chan_recv(m->c, &v)) {
        EXPECT(v >= 0 && v < m->n);
        if (v >= 0 && v < m->n)
            atomic_fetch_add_explicit(&m->seen[v], 1, memory_order_relaxed);
        count++;
        sum += v;
    }
    atomic_fetch_add(&m->count, count);
    atomic_fetch_add(&m->sum, sum);
}

static void mpmc_every_value_received_once(size_t cap) {
    /* 1,000,000 values on the release build. ThreadSanitizer is 5-20x slower with 16 threads on
     * few cores, so sanitizer builds move 200,000; valgrind (TEST_QUICK) 10,000. */
#ifdef TEST_SANITIZER
    int64_t n = QUICK_OR(200000, 10000);
#else
    int64_t n = QUICK_OR(1000000, 10000);
#endif
    mpmc m = {.c = chan_make(sizeof(int64_t), cap), .n = n};
    m.seen = calloc(n, 1);
    waitgroup senders = WAITGROUP_INIT, receivers = WAITGROUP_INIT;
    for (int i = 0; i < MPMC_RECEIVERS; i++)
        wg_go(&receivers, mpmc_recv, &m);
    for (int i = 0; i < MPMC_SENDERS; i++)
        wg_go(&senders, mpmc_send, &m);
    wg_wait(&senders);
    chan_close(m.c);
    wg_wait(&receivers);
    EXPECT_EQ(n, atomic_load(&m.count));
    EXPECT_EQ(n * (n - 1) / 2, atomic_load(&m.sum));
    EXPECT_EACH_ONCE(m.seen, n);
    free((void *)m.seen);
    chan_free(m.c);
}

static void stress_unbuffered_8_senders_8_receivers_each_value_once(void) {
    mpmc_every_value_received_once(0);
}
static void stress_cap1_8_senders_8_receivers_each_value_once(void) {
    mpmc_every_value_received_once(1);
}
static void stress_cap64_8_senders_8_receivers_each_value_once(void) {
    mpmc_every_value_received_once(64);
}

/* The buffered fast path (a lock-free ring, taken while nobody waits) racing with its slow
 * path: senders and receivers on a ring kept nearly full (slow receivers) or nearly empty (slow
 * senders), so that goroutines keep blocking and being woken while others go lock-free; some
 * send and receive through select (blocking, or polling with a default), which goes through the
 * lock; the last sender closes while the receivers are still draining or blocked. Every value
 * arrives once, each receiver sees each sender's values in order, len stays within cap, and
 * after the close every receiver gets false. */
enum { RING_SENDERS = 4, RING_RECEIVERS = 4 };

typedef struct ring_race {
    chan *c, *never;
    int64_t per_sender;
    bool slow_senders, slow_receivers;
    atomic_int next_id, senders_left;
    _Atomic unsigned char *seen; /* value = sender << 32 | seq, seen[sender * per_sender + seq] */
    atomic_llong received;
} ring_race;

static void ring_pause(bool slow, int64_t i) {
    if (slow)
        for (volatile int k = 0; k < (int)(i % 7) * 40; k++)
            ;
}

static void ring_send(void *arg) {
    ring_race *r = arg;
    int64_t id = atomic_fetch_add(&r->next_id, 1);
    for (int64_t seq = 0; seq < r->per_sender; seq++) {
        int64_t v = id << 32 | seq;
        if (id == 0) { /* a blocking select: the lock's path */
            select_case cs[] = {select_send(r->c, &v), select_recv(r->never, NULL)};
            EXPECT_EQ(0, chan_select(cs, 2));
        } else if (id == 1 && seq % 2) { /* a polling select */
            select_case cs[] = {select_send(r->c, &v)};
            while (chan_select_default(cs, 1) == SELECT_DEFAULT)
                sched_yield();
        } else {
            chan_send(r->c, &v);
        }
        ring_pause(r->slow_senders, seq);
    }
    if (atomic_fetch_sub(&r->senders_left, 1) == 1)
        chan_close(r->c); /* lands while receivers drain, or wait */
}

static void ring_recv(void *arg) {
    ring_race *r = arg;
    int id = atomic_fetch_add(&r->next_id, 1) - RING_SENDERS;
    int64_t last[RING_SENDERS] = {-1, -1, -1, -1}, n = 0;
    for (;;) {
        int64_t v = -1;
        bool ok;
        if (id == 0) {
            select_case cs[] = {select_recv(r->never, NULL), select_recv(r->c, &v)};
            EXPECT_EQ(1, chan_select(cs, 2));
            ok = cs[1].ok;
        } else if (id == 1) {
            select_case cs[] = {select_recv(r->c, &v)};
            while (chan_select_default(cs, 1) == SELECT_DEFAULT)
                sched_yield();
            ok = cs[0].ok;
        } else {
            ok = chan_recv(r->c, &v);
        }
        if (!ok) {
            EXPECT_EQ(0, v);
            break;
        }
        int64_t sender = v >> 32, seq = v & 0xffffffff;
        if (sender < 0 || sender >= RING_SENDERS || seq >= r->per_sender || seq <= last[sender]) {
            EXPECT_EQ(last[sender < 0 || sender >= RING_SENDERS ? 0 : sender] + 1, seq);
            break;
        }
        last[sender] = seq;
        atomic_fetch_add_explicit(&r->seen[sender * r->per_sender + seq], 1, memory_order_relaxed);
        size_t len = chan_len(r->c);
        if (len > chan_cap(r->c))
            EXPECT_EQ(chan_cap(r->c), len);
        ring_pause(r->slow_receivers, ++n);
    }
    atomic_fetch_add(&r->received, n);
    EXPECT(!chan_recv(r->c, NULL)); /* closed and drained: stays so */
}

static void stress_ring_fast_path_races_with_blockers_and_close(void) {
#ifdef TEST_SANITIZER
    int64_t per_sender = QUICK_OR(10000, 1000);
#else
    int64_t per_sender = QUICK_OR(50000, 1000);
#endif
    static const size_t caps[] = {1, 4, 64};
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++)
        for (int full = 0; full <= 1; full++) {
            ring_race r = {.c = chan_make(sizeof(int64_t), caps[k]),
                           .never = chan_make(sizeof(int64_t), 0),
                           .per_sender = per_sender,
                           .slow_senders = !full,
                           .slow_receivers = full};
            atomic_init(&r.senders_left, RING_SENDERS);
            int64_t n = per_sender * RING_SENDERS;
            r.seen = calloc(n, 1);
            waitgroup wg = WAITGROUP_INIT;
            for (int i = 0; i < RING_SENDERS; i++)
                wg_go(&wg, ring_send, &r);
            WAIT_FOR(atomic_load(&r.next_id) == RING_SENDERS, 5); /* ids: senders first */
            for (int i = 0; i < RING_RECEIVERS; i++)
                wg_go(&wg, ring_recv, &r);
            wg_wait(&wg);
            EXPECT_EQ(n, atomic_load(&r.received));
            EXPECT_EACH_ONCE(r.seen, n);
            EXPECT_EQ(0, chan_len(r.c));
            free((void *)r.seen);
            chan_free(r.c);
            chan_free(r.never);
        }
}

/* --- cases that end the process --- */

static void send_on_closed_channel_panics(void) {
    chan *c = chan_make(sizeof(int64_t), 1);
    chan_close(c);
    send_value(c, 1);
}

static void close_of_closed_channel_panics(void) {
    chan *c = chan_make(sizeof(int64_t), 1);
    chan_close(c);
    chan_close(c);
}

static void blocked_sender_panics_when_channel_closed(void) {
    op o = {.c = chan_make(sizeof(int64_t), 0), .v = 1};
    go(do_send, &o);
    WAIT_BLOCKED(&o.tid);
    chan_close(o.c);
    time_sleep(TEST_SECONDS(5)); /* the sender's panic ends the process meanwhile */
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(nil_channel_send_blocks_forever),
        TEST(nil_channel_recv_blocks_forever),
        TEST(nil_channel_len_and_cap_are_zero),
        TEST(unbuffered_send_blocks_until_received),
        TEST(buffered_send_blocks_while_buffer_full),
        TEST(recv_blocks_until_value_sent),
        TEST(buffered_values_come_out_in_order_sent),
        TEST(each_senders_values_arrive_in_order),
        TEST(blocked_sender_keeps_its_place),
        TEST(sender_may_reuse_its_variable_after_send),
        TEST(recv_with_null_elem_discards_value),
        TEST(len_and_cap_count_buffered_elements),
        TEST(chan_ref_keeps_channel_until_last_free),
        TEST(zero_size_elements_are_chan_struct),
        TEST(recv_on_closed_returns_buffered_then_zero_false),
        TEST(close_wakes_every_blocked_receiver),
        TEST(range_ends_when_closed_and_drained),
        TEST(send_happens_before_receive_completes),
        TEST(unbuffered_recv_happens_before_send_completes),
        TEST(close_happens_before_recv_that_returns_false),
        TEST(free_right_after_the_last_receive),
        TEST(stress_unbuffered_8_senders_8_receivers_each_value_once),
        TEST(stress_cap1_8_senders_8_receivers_each_value_once),
        TEST(stress_cap64_8_senders_8_receivers_each_value_once),
        TEST(stress_ring_fast_path_races_with_blockers_and_close),
        TEST_EXIT(close_of_nil_channel_panics),
        TEST_EXIT(send_on_closed_channel_panics),
        TEST_EXIT(close_of_closed_channel_panics),
        TEST_EXIT(blocked_sender_panics_when_channel_closed),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
