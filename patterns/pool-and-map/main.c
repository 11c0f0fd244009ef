/* patterns/pool-and-map: the two members of Go's sync the path leaves out,
 * sync.Pool and sync.Map, built small and measured against the plain way.
 *
 * A pool keeps the objects put back for the next get, so that a hot loop
 * allocates a few buffers instead of one per use. Go's sync.Pool keeps a
 * private object and a shared queue per P; ours keeps a few objects per
 * thread (_Thread_local: no lock) in front of one shared list under a mutex.
 *
 * sync.Map is a map for two cases, Go's documentation says: keys written once
 * and read many times, and goroutines working on disjoint keys. Its trick is a
 * read-only snapshot that loads and updates of known keys use without a lock
 * (an atomic pointer to it, an atomic value in each entry), and a dirty map
 * under a mutex for new keys, promoted to be the snapshot once enough loads
 * have missed. Ours does the same (without Delete), against one map behind a
 * pthread_rwlock_t and a sharded one, on the hash table of pool-and-map.h.
 * From Go's src/sync/pool.go and src/sync/map.go. The Go program this
 * mirrors is main.go, beside this file.
 *
 * Break it: --break puts each buffer back before its last use. The pool
 * marks a buffer free when it is put back and checks the mark at the next
 * get, so it counts every buffer written after its put; under ASan the pool
 * poisons the buffers it holds, and the first such write is reported.
 */
#include <pthread.h>
#include <sanitizer/asan_interface.h> /* no-ops unless built with ASan */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/flag.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"
#include "patterns/pool-and-map/pool-and-map.h"

#define MAX_WORKERS 64
#define CACHE       4    /* buffers a thread keeps for itself */
#define MESSAGE     64   /* bytes of a buffer a use writes */
#define FREE        (-1) /* the owner of a buffer in the pool */

/* ---- sync.Pool ---- */

struct buffer {
    struct buffer *next; /* the pool's: its shared list */
    int owner;           /* the user's: who holds it; FREE while in the pool */
    char data[];
};

struct pool {
    pthread_mutex_t mu;
    struct buffer *shared; /* a stack of buffers put back; guarded by mu */
    size_t size;           /* of a buffer's data */
    int cache;             /* 0: no per-thread cache (the "shared list" row) */
    atomic_long allocated; /* buffers made because the pool had none */
    atomic_long in_use;    /* gets that found a buffer written after its put */
};

/* Each thread's own few buffers. A goroutine done with the pool hands them
 * back (pool_flush) before it returns: a thread's cache dies with it, where
 * Go's Ps outlive their goroutines. */
static _Thread_local struct buffer *cached[CACHE];
static _Thread_local int ncached;

/* Under ASan, a buffer in the pool is poisoned, all but its next (which the
 * pool uses): a use after the put is reported at once. Elsewhere, no-ops. */
static void poison(const struct pool *p, struct buffer *b, bool poisoned) {
    char *from = (char *)&b->owner;
    size_t size = sizeof *b - offsetof(struct buffer, owner) + p->size;
    if (poisoned)
        ASAN_POISON_MEMORY_REGION(from, size);
    else
        ASAN_UNPOISON_MEMORY_REGION(from, size);
}

static struct buffer *pool_get(struct pool *p) {
    struct buffer *b = NULL;
    /* practice: take a buffer: from this thread's cache first, else from the shared list under the lock (NULL if it is empty) */
    if (ncached > 0) {
        b = cached[--ncached];
    } else {
        pthread_mutex_lock(&p->mu);
        if ((b = p->shared))
            p->shared = b->next;
        pthread_mutex_unlock(&p->mu);
    }
    /* end practice */
    if (!b) {
        b = malloc(sizeof *b + p->size);
        b->owner = FREE;
        atomic_fetch_add_explicit(&p->allocated, 1, memory_order_relaxed);
        return b;
    }
    poison(p, b, false);
    if (b->owner != FREE) /* someone wrote it after putting it back */
        atomic_fetch_add_explicit(&p->in_use, 1, memory_order_relaxed);
    return b;
}

static void pool_put(struct pool *p, struct buffer *b) {
    b->owner = FREE;
    poison(p, b, true);
    /* practice: keep the buffer in this thread's cache if there is room (p->cache of them), else push it on the shared list under the lock */
    if (ncached < p->cache) {
        cached[ncached++] = b;
        return;
    }
    pthread_mutex_lock(&p->mu);
    b->next = p->shared;
    p->shared = b;
    pthread_mutex_unlock(&p->mu);
    /* end practice */
}

static void pool_flush(struct pool *p) {
    while (ncached > 0) {
        struct buffer *b = cached[--ncached];
        pthread_mutex_lock(&p->mu);
        b->next = p->shared;
        p->shared = b;
        pthread_mutex_unlock(&p->mu);
    }
}

/* Frees every buffer in the pool; the caller has waited for its users. */
static long pool_free(struct pool *p) {
    long n = 0;
    for (struct buffer *b = p->shared, *next; b; b = next, n++) {
        next = b->next;
        poison(p, b, false);
        free(b);
    }
    return n;
}

/* ---- The pool at work ---- */

struct pool_job {
    int id;
    long ops;
    struct pool *pool; /* NULL: malloc and free each time */
    size_t size;
    bool put_early;   /* --break */
    long overwritten; /* uses that found another's mark on their buffer */
    waitgroup *wg;
};

/* A use of a buffer: mark it as ours, write a message, and check that
 * nobody else wrote it meanwhile. */
static bool use(struct buffer *b, int me) {
    b->owner = me;
    memset(b->data, 'a' + me % 26, MESSAGE);
    return b->owner == me && b->data[MESSAGE - 1] == 'a' + me % 26;
}

static void pool_worker(void *arg) {
    struct pool_job *j = arg;
    for (long i = 0; i < j->ops; i++) {
        if (!j->pool) {
            struct buffer *b = malloc(sizeof *b + j->size);
            j->overwritten += !use(b, j->id);
            free(b);
            continue;
        }
        struct buffer *b = pool_get(j->pool);
        if (j->put_early)
            pool_put(j->pool, b); /* WRONG: handed back, then used */
        j->overwritten += !use(b, j->id);
        if (!j->put_early)
            pool_put(j->pool, b);
    }
    if (j->pool)
        pool_flush(j->pool);
    wg_done(j->wg);
}

/* One row of the pool's table: w goroutines, ops gets and puts each. */
static long pool_row(const char *name, int cache, bool use_pool, int w, long ops, size_t size,
                     bool put_early) {
    struct pool p = {PTHREAD_MUTEX_INITIALIZER, NULL, size, cache, 0, 0};
    struct pool_job jobs[MAX_WORKERS];
    waitgroup wg = WAITGROUP_INIT;
    instant start = time_now();
    for (int i = 0; i < w; i++) {
        jobs[i] = (struct pool_job){i, ops, use_pool ? &p : NULL, size, put_early, 0, &wg};
        wg_add(&wg, 1);
        go(pool_worker, &jobs[i]);
    }
    wg_wait(&wg);
    duration took = time_since(start);
    long in_use = atomic_load(&p.in_use), total = (long)w * ops;
    for (int i = 0; i < w; i++)
        in_use += jobs[i].overwritten;
    long allocated = use_pool ? atomic_load(&p.allocated) : total;
    long kept = pool_free(&p);
    if (use_pool && kept != allocated) /* every buffer made is back in the pool */
        printf("pool: %ld buffers made, %ld back at the end\n", allocated, kept);
    printf("%-13s %-9.1f %-10ld %-8ld %ld\n", name, (double)took / (double)total, allocated,
           total - allocated, in_use);
    return in_use + (use_pool && kept != allocated);
}

/* ---- sync.Map, and the maps it is measured against ---- */

struct entry {
    atomic_long value; /* updated without a lock once the key is in the snapshot */
};

/* One map behind a read-write lock: loads share it, stores take it alone. */
struct rwmap {
    pthread_rwlock_t mu;
    struct table *m;
};

static bool rwmap_load(struct rwmap *m, long key, long *value) {
    pthread_rwlock_rdlock(&m->mu);
    struct slot *s = table_find(m->m, key);
    bool ok = s->used;
    if (ok)
        *value = s->value;
    pthread_rwlock_unlock(&m->mu);
    return ok;
}

static void rwmap_store(struct rwmap *m, long key, long value) {
    pthread_rwlock_wrlock(&m->mu);
    table_insert(m->m, key)->value = value;
    pthread_rwlock_unlock(&m->mu);
}

/* sync.Map. read is a snapshot nobody changes once it is published, so a
 * load needs no lock; a key in it is updated in its entry, atomically. A new
 * key goes to dirty, under mu: dirty holds every key of read and the new
 * ones (read->amended says there are some). Once as many loads have missed
 * read as dirty has keys, dirty becomes the snapshot. Old snapshots are
 * kept until the map is freed: a reader may still be in one, and C has no
 * garbage collector to say when none is (epochs or hazard pointers would). */
struct readonly {
    struct table *m;
    bool amended;           /* dirty has keys m has not */
    bool retired_table;     /* retired: m went with it (a promotion replaced it) */
    struct readonly *older; /* retired: the one retired before */
};

struct syncmap {
    _Atomic(struct readonly *) read;
    pthread_mutex_t mu;
    struct table *dirty;      /* NULL until a new key comes after a promotion */
    size_t misses;            /* loads that locked mu since the last promotion */
    struct readonly *retired; /* snapshots nobody publishes any more */
};

static void publish(struct syncmap *m, struct table *t, bool amended) { /* under mu */
    struct readonly *r = malloc(sizeof *r);
    *r = (struct readonly){t, amended, false, NULL};
    struct readonly *old = atomic_exchange(&m->read, r);
    old->retired_table = old->m != t, old->older = m->retired;
    m->retired = old;
}

static bool syncmap_load(struct syncmap *m, long key, long *value) {
    struct readonly *r = atomic_load(&m->read);
    struct slot *s = table_find(r->m, key);
    struct entry *e = s->used ? s->entry : NULL;
    if (!e && r->amended) { /* maybe a new key, only in dirty */
        /* practice: under mu: read again (it may have just changed), then dirty; count the miss, and once the misses reach dirty's keys, publish dirty as the snapshot: no dirty, no misses */
        pthread_mutex_lock(&m->mu);
        r = atomic_load(&m->read);
        s = table_find(r->m, key);
        e = s->used ? s->entry : NULL;
        if (!e && r->amended) {
            s = table_find(m->dirty, key);
            e = s->used ? s->entry : NULL;
            if (++m->misses >= m->dirty->len) { /* enough: dirty is the snapshot now */
                publish(m, m->dirty, false);
                m->dirty = NULL, m->misses = 0;
            }
        }
        pthread_mutex_unlock(&m->mu);
        /* end practice */
    }
    if (e)
        *value = atomic_load(&e->value);
    return e != NULL;
}

static void syncmap_store(struct syncmap *m, long key, long value) {
    struct readonly *r = atomic_load(&m->read);
    struct slot *s = table_find(r->m, key);
    if (s->used) { /* the fast path: a key the snapshot has */
        atomic_store(&s->entry->value, value);
        return;
    }
    pthread_mutex_lock(&m->mu);
    r = atomic_load(&m->read);
    if ((s = table_find(r->m, key))->used || (m->dirty && (s = table_find(m->dirty, key))->used)) {
        atomic_store(&s->entry->value, value);
    } else {
        if (!m->dirty) { /* the first new key since the promotion: dirty starts as read */
            m->dirty = table_new(r->m->cap);
            memcpy(m->dirty->slots, r->m->slots, sizeof(struct slot) * r->m->cap);
            m->dirty->len = r->m->len;
            publish(m, r->m, true);
        }
        s = table_insert(m->dirty, key);
        s->entry = malloc(sizeof *s->entry);
        atomic_init(&s->entry->value, value);
    }
    pthread_mutex_unlock(&m->mu);
}

static void syncmap_free(struct syncmap *m) {
    struct readonly *r = atomic_load(&m->read);
    struct table *all = m->dirty ? m->dirty : r->m; /* holds every key */
    for (size_t i = 0; i < all->cap; i++)
        if (all->slots[i].used)
            free(all->slots[i].entry);
    for (struct readonly *old = m->retired, *older; old; old = older) {
        older = old->older;
        if (old->retired_table)
            table_free(old->m);
        free(old);
    }
    table_free(m->dirty), table_free(r->m), free(r);
    pthread_mutex_destroy(&m->mu);
}

/* ---- The maps at work ---- */

enum kind { RWMUTEX, SHARDED, SYNCMAP };
static const char *kinds[] = {"rwmutex", "sharded", "sync.Map"};

struct anymap { /* one of the three, and its shards */
    enum kind kind;
    int nshards;
    struct rwmap *shards; /* RWMUTEX: one; SHARDED: nshards */
    struct syncmap sync;
};

static bool load(struct anymap *m, long key, long *value) {
    if (m->kind == SYNCMAP)
        return syncmap_load(&m->sync, key, value);
    return rwmap_load(&m->shards[(mix((uint64_t)key) >> 32) % (uint64_t)m->nshards], key, value);
}

static void store(struct anymap *m, long key, long value) {
    if (m->kind == SYNCMAP)
        syncmap_store(&m->sync, key, value);
    else
        rwmap_store(&m->shards[(mix((uint64_t)key) >> 32) % (uint64_t)m->nshards], key, value);
}

enum workload { WRITE_ONCE, DISJOINT };

struct map_job {
    int id, workers;
    long ops, keys;
    enum workload workload;
    struct anymap *m;
    long wrong; /* loads that saw a value no store wrote */
    waitgroup *wg;
};

/* The key of goroutine id's next operation: any key when keys are written
 * once; one of its own (key % workers == id) when they are disjoint. */
static long next_key(uint64_t *state, const struct map_job *j) {
    uint64_t r = next_random(state);
    if (j->workload == WRITE_ONCE)
        return (long)(r % (uint64_t)j->keys);
    long own = (j->keys - j->id + j->workers - 1) / j->workers;
    return (long)(r % (uint64_t)own) * j->workers + j->id;
}

static void map_worker(void *arg) {
    struct map_job *j = arg;
    uint64_t state = (uint64_t)j->id;
    for (long i = 0; i < j->ops; i++) {
        long key = next_key(&state, j), value = 0;
        bool found = load(j->m, key, &value);
        if (j->workload == WRITE_ONCE) { /* a cache: the value of a key never changes */
            if (!found)
                store(j->m, key, 2 * key + 1);
            else if (value != 2 * key + 1)
                j->wrong++;
        } else { /* a counter per key, and only its goroutine counts it */
            store(j->m, key, value + 1);
        }
    }
    wg_done(j->wg);
}

/* One row of the map's table: returns 1 if its check failed. */
static int map_row(enum workload workload, enum kind kind, int w, long ops, long keys, int shards) {
    struct anymap m = {.kind = kind, .nshards = kind == SHARDED ? shards : 1}; /* sync: zeros */
    m.shards = malloc(sizeof *m.shards * (size_t)m.nshards);
    for (int s = 0; s < m.nshards; s++)
        m.shards[s] = (struct rwmap){PTHREAD_RWLOCK_INITIALIZER, table_new(16)};
    struct readonly *empty = malloc(sizeof *empty);
    *empty = (struct readonly){table_new(16), false, false, NULL};
    atomic_init(&m.sync.read, empty);
    pthread_mutex_init(&m.sync.mu, NULL);

    struct map_job jobs[MAX_WORKERS];
    waitgroup wg = WAITGROUP_INIT;
    instant start = time_now();
    for (int i = 0; i < w; i++) {
        jobs[i] = (struct map_job){i, w, ops, keys, workload, &m, 0, &wg};
        wg_add(&wg, 1);
        go(map_worker, &jobs[i]);
    }
    wg_wait(&wg);
    duration took = time_since(start);

    /* The check: what every key holds, against what the goroutines did. */
    long wrong = 0, present = 0, sum = 0, expected = 0;
    char *touched = calloc((size_t)keys, 1);
    for (int i = 0; i < w; i++) {
        wrong += jobs[i].wrong;
        uint64_t state = (uint64_t)i; /* the keys goroutine i used, again */
        for (long k = 0; workload == WRITE_ONCE && k < ops; k++)
            touched[next_key(&state, &jobs[i])] = 1;
    }
    for (long k = 0; k < keys; k++) {
        long value;
        if (load(&m, k, &value)) {
            present++, sum += value;
            wrong += workload == WRITE_ONCE && (value != 2 * k + 1 || !touched[k]);
        }
        expected += touched[k];
    }
    char check[80];
    if (workload == WRITE_ONCE)
        wrong += present != expected,
            snprintf(check, sizeof check, "%s: %ld keys, each with its value",
                     wrong ? "WRONG" : "ok", present);
    else
        wrong += sum != (long)w * ops, snprintf(check, sizeof check, "%s: the counts add up to %ld",
                                                wrong ? "WRONG" : "ok", sum);
    printf("%-13s %-9s %-8.2f %s\n", workload == WRITE_ONCE ? "write once" : "disjoint keys",
           kinds[kind], (double)w * (double)ops / ((double)took / 1e3), check);

    free(touched);
    for (int s = 0; s < m.nshards; s++)
        table_free(m.shards[s].m), pthread_rwlock_destroy(&m.shards[s].mu);
    free(m.shards);
    syncmap_free(&m.sync);
    return wrong > 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int n, w, size, keys, shards;
    const char *mistake;
    flag_int_range(&n, "n", 50000, 1, 100000000, "operations per goroutine, in each row");
    flag_int_range(&w, "w", 4, 1, MAX_WORKERS, "goroutines");
    flag_int_range(&size, "size", 4096, MESSAGE, 1 << 20, "bytes of a pooled buffer");
    flag_int_range(&keys, "keys", 1000, 1, 10000000, "keys of the maps");
    flag_int_range(&shards, "shards", 16, 1, 1024, "shards of the sharded map");
    flag_mode(&mistake, "break", "put-early", "put each buffer back before its last use");
    flag_parse(argc, argv);
    if (keys < w)
        flag_fail("invalid value for flag -keys: must be at least -w (%d)", w);

    printf("sync.Pool: %d goroutines x %d gets and puts, %d-byte buffers\n", w, n, size);
    printf("%-13s %-9s %-10s %-8s %s\n", "pool", "ns/op", "allocated", "reused",
           "in use after put");
    long in_use = pool_row("no pool", 0, false, w, n, (size_t)size, false);
    in_use += pool_row("shared list", 0, true, w, n, (size_t)size, mistake != NULL);
    in_use += pool_row("cache + list", CACHE, true, w, n, (size_t)size, mistake != NULL);

    printf("sync.Map: %d goroutines x %d loads and stores, %d keys\n", w, n, keys);
    printf("%-13s %-9s %-8s %s\n", "case", "map", "Mops/s", "check");
    int wrong = 0;
    for (enum workload l = WRITE_ONCE; l <= DISJOINT; l++)
        for (enum kind k = RWMUTEX; k <= SYNCMAP; k++)
            wrong += map_row(l, k, w, n, keys, shards);

    if (in_use)
        printf("main: %ld times a buffer was used after its put\n", in_use);
    if (wrong)
        printf("main: %d maps failed their check\n", wrong);
    if (!in_use && !wrong)
        printf("main: every buffer and every key checked\n");
    /* go_leaks waits up to a second for goroutines to return, as goleak does,
     * and names on stderr any still running. */
    int left = 1 + go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", left, left - 1);
    return in_use || wrong ? 1 : 0;
}
