/* patterns/map-reduce: count the words of a text with W workers, several
 * ways, and check each against the count of one thread.
 *
 * The text, generated from --seed (the same in C and in Go), is cut into
 * tasks of uneven sizes, as real inputs come. A worker maps a task: it splits
 * it into words and counts each. Where the counts go is the first question:
 * one map behind one mutex, a sharded map (a word's hash picks one of S maps,
 * each with its own mutex), a map of each worker's own merged at the end, or
 * MapReduce's shuffle (each task's counts split by hash into R parts, part r
 * sent to reducer r). Who takes which task is the second: one shared queue (a
 * channel), a fixed block each (static), or a deque each, where an idle
 * worker steals from the others'. From Dean and Ghemawat, "MapReduce:
 * Simplified Data Processing on Large Clusters" (2004), and Blumofe and
 * Leiserson's work stealing (Cilk). The text, its tasks and the map that
 * counts are in map-reduce.h; the Go program this mirrors is main.go, beside
 * this file.
 *
 * Break it: --break counts into one shared map without its mutex: a data
 * race, which ThreadSanitizer reports, and counts lost, which the program's
 * own check reports.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/chan.h"
#include "common/flag.h"
#include "common/go.h"
#include "common/sync.h"
#include "common/timer.h"
#include "patterns/map-reduce/map-reduce.h"

#define MAX_WORKERS 64

/* Maps one task: emit(to, word) for each of its words. Returns how many. */
typedef void emit_fn(void *to, const char *w, size_t len, uint64_t h);
static long map_task(struct task t, emit_fn *emit, void *to) {
    long words = 0;
    for (const char *p = t.begin; p < t.end; p++, words++) {
        const char *w = p;
        while (*p != ' ' && *p != '\n')
            p++;
        emit(to, w, (size_t)(p - w), hash_word(w, (size_t)(p - w)));
    }
    return words;
}

/* ---- Where the counts go ---- */

struct locked {
    pthread_mutex_t mu;
    struct counts m;
};

static void emit_own(void *to, const char *w, size_t len, uint64_t h) {
    counts_add(to, w, len, h, 1); /* a map only this worker touches */
}

static void emit_locked(void *to, const char *w, size_t len, uint64_t h) {
    struct locked *l = to;
    pthread_mutex_lock(&l->mu);
    counts_add(&l->m, w, len, h, 1);
    pthread_mutex_unlock(&l->mu);
}

static void emit_unlocked(void *to, const char *w, size_t len, uint64_t h) {
    counts_add(&((struct locked *)to)->m, w, len, h, 1); /* WRONG: every worker at once */
}

struct sharded {
    int n;
    struct locked *shards;
};

static void emit_sharded(void *to, const char *w, size_t len, uint64_t h) {
    struct sharded *s = to;
    /* practice: count the word in its shard, the one its hash picks ((h >> 32) % n), under that shard's lock */
    struct locked *shard = &s->shards[(h >> 32) % (uint64_t)s->n];
    pthread_mutex_lock(&shard->mu);
    counts_add(&shard->m, w, len, h, 1);
    pthread_mutex_unlock(&shard->mu);
    /* end practice */
}

/* The shuffle: a task's counts, split by hash into one part per reducer. */
struct parts {
    int n;
    struct counts *part[MAX_WORKERS];
};

static void emit_part(void *to, const char *w, size_t len, uint64_t h) {
    struct parts *p = to;
    counts_add(p->part[(h >> 32) % (uint64_t)p->n], w, len, h, 1);
}

/* ---- Who takes which task ---- */

struct deque { /* tasks[top..bottom), under mu: the owner's end is the bottom */
    pthread_mutex_t mu;
    int top, bottom, *tasks;
};

static bool deque_pop(struct deque *d, int *task) {
    pthread_mutex_lock(&d->mu);
    bool ok = d->bottom > d->top;
    if (ok)
        *task = d->tasks[--d->bottom];
    pthread_mutex_unlock(&d->mu);
    return ok;
}

static bool deque_steal(struct deque *d, int *task) {
    pthread_mutex_lock(&d->mu);
    bool ok = d->bottom > d->top;
    if (ok)
        *task = d->tasks[d->top++];
    pthread_mutex_unlock(&d->mu);
    return ok;
}

enum schedule { QUEUE, STATIC, STEAL };

struct run { /* what the workers of one variant share */
    const struct task *tasks;
    int workers;
    enum schedule schedule;
    chan *queue;               /* QUEUE: task numbers, closed when all are in */
    struct deque *deques;      /* STATIC, STEAL: one per worker */
    emit_fn *emit;             /* where a worker's words go... */
    void *to;                  /* ...and emit's first argument (NULL: the worker's own map) */
    chan *reduce[MAX_WORKERS]; /* the shuffle: struct counts * to reducer r */
    int reducers;              /* 0: no shuffle */
    waitgroup wg;
};

struct worker {
    int id;
    struct run *run;
    struct counts own;
    long words, steals;
};

/* The next task for w, or -1 once there is none. */
static int next_task(struct worker *w) {
    struct run *r = w->run;
    int t = -1;
    if (r->schedule == QUEUE) {
        if (!chan_recv(r->queue, &t))
            t = -1;
        return t;
    }
    /* practice: your own deque's bottom first; if it is empty and stealing is on, steal from the top of the others' (w->steals++), in turn */
    if (!deque_pop(&r->deques[w->id], &t) && r->schedule == STEAL)
        for (int k = 1; k < r->workers && t < 0; k++)
            if (deque_steal(&r->deques[(w->id + k) % r->workers], &t))
                w->steals++;
    /* end practice */
    return t; /* -1: every deque was empty, and no task is ever added */
}

static void map_worker(void *arg) {
    struct worker *w = arg;
    struct run *r = w->run;
    for (int t; (t = next_task(w)) >= 0;) {
        if (r->reducers == 0) {
            w->words += map_task(r->tasks[t], r->emit, r->to ? r->to : &w->own);
            continue;
        }
        struct parts p = {r->reducers, {0}};
        for (int i = 0; i < p.n; i++) {
            p.part[i] = malloc(sizeof *p.part[i]);
            counts_init(p.part[i], 64);
        }
        w->words += map_task(r->tasks[t], emit_part, &p);
        /* practice: the shuffle: send part i of this task's counts to reducer i */
        for (int i = 0; i < p.n; i++)
            chan_send(r->reduce[i], &p.part[i]);
        /* end practice */
    }
    wg_done(&r->wg);
}

struct reducer {
    chan *in;
    struct counts m; /* the words whose hash picks this reducer */
    waitgroup *wg;
};

static void reduce_worker(void *arg) {
    struct reducer *r = arg;
    struct counts *part;
    while (chan_recv(r->in, &part)) {
        counts_merge(&r->m, part);
        free(part->slots);
        free(part);
    }
    wg_done(r->wg);
}

/* ---- The variants, side by side ---- */

enum variant { SINGLE, MUTEX, UNLOCKED, SHARDED, PER_WORKER, MAP_REDUCE, STATIC_BLOCKS, STEALING };
static const char *names[] = {"single",     "mutex",      "unlocked", "sharded",
                              "per-worker", "map-reduce", "static",   "stealing"};

struct config {
    const struct task *tasks;
    int ntasks, workers, reducers, shards;
};

/* The words of m not where their hash puts them: part i of n holds only the
 * words whose hash picks i. */
static long misplaced(const struct counts *m, int i, int n) {
    long wrong = 0;
    for (size_t k = 0; k < m->cap; k++)
        wrong += m->slots[k].word && (m->slots[k].hash >> 32) % (uint64_t)n != (uint64_t)i;
    return wrong;
}

struct outcome {
    duration took;
    long busiest, steals; /* the words of the busiest worker; the tasks stolen */
    long misplaced;       /* words at a shard or reducer their hash does not pick */
};

/* Counts the words with variant v into result. */
static struct outcome count(enum variant v, const struct config *c, struct counts *result) {
    struct outcome o = {0};
    struct run r = {c->tasks, c->workers, QUEUE, NULL, NULL,
                    emit_own, NULL,       {0},   0,    WAITGROUP_INIT};
    struct worker w[MAX_WORKERS];
    struct reducer red[MAX_WORKERS];
    struct deque deques[MAX_WORKERS];
    struct locked shared = {PTHREAD_MUTEX_INITIALIZER, {0}}, shards[1024];
    struct sharded sharded = {c->shards, shards};
    waitgroup reducers_wg = WAITGROUP_INIT;
    counts_init(result, VOCABULARY);
    instant start = time_now();
    if (v == SINGLE) {
        for (int t = 0; t < c->ntasks; t++)
            o.busiest += map_task(c->tasks[t], emit_own, result);
        o.took = time_since(start);
        return o;
    }
    if (v == MUTEX || v == UNLOCKED) {
        counts_init(&shared.m, VOCABULARY); /* room for every word: it never grows */
        r.emit = v == MUTEX ? emit_locked : emit_unlocked, r.to = &shared;
    } else if (v == SHARDED) {
        for (int s = 0; s < c->shards; s++) {
            pthread_mutex_init(&shards[s].mu, NULL);
            counts_init(&shards[s].m, 64);
        }
        r.emit = emit_sharded, r.to = &sharded;
    } else if (v == MAP_REDUCE) {
        r.emit = NULL, r.reducers = c->reducers;
        for (int i = 0; i < c->reducers; i++) {
            r.reduce[i] = chan_make(sizeof(struct counts *), (size_t)c->ntasks);
            red[i] = (struct reducer){r.reduce[i], {0}, &reducers_wg};
            counts_init(&red[i].m, 64);
            wg_add(&reducers_wg, 1);
            go(reduce_worker, &red[i]);
        }
    } /* else: each worker its own map (emit_own), merged at the end */
    if (v == STATIC_BLOCKS || v == STEALING) { /* worker i gets the i-th block of tasks */
        r.schedule = v == STEALING ? STEAL : STATIC, r.deques = deques;
        for (int i = 0; i < c->workers; i++) {
            int first = c->ntasks * i / c->workers, last = c->ntasks * (i + 1) / c->workers;
            deques[i] = (struct deque){PTHREAD_MUTEX_INITIALIZER, 0, last - first,
                                       malloc(sizeof(int) * (size_t)(last - first + 1))};
            for (int t = first; t < last; t++)  /* the block's first task on top, */
                deques[i].tasks[t - first] = t; /* for a thief; its last for the owner */
        }
    } else {
        r.queue = chan_make(sizeof(int), (size_t)c->ntasks);
        for (int t = 0; t < c->ntasks; t++)
            chan_send(r.queue, &t);
        chan_close(r.queue);
    }
    for (int i = 0; i < c->workers; i++) {
        w[i] = (struct worker){i, &r, {0}, 0, 0};
        counts_init(&w[i].own, 64);
        wg_add(&r.wg, 1);
        go(map_worker, &w[i]);
    }
    wg_wait(&r.wg);
    for (int i = 0; i < r.reducers; i++)
        chan_close(r.reduce[i]);
    wg_wait(&reducers_wg);
    for (int i = 0; r.emit == emit_own && i < c->workers; i++) /* part of the work: the merge */
        counts_merge(result, &w[i].own);
    o.took = time_since(start);

    /* The result, in one map to check it; then everything freed. */
    counts_merge(result, &shared.m);
    free(shared.m.slots);
    for (int s = 0; v == SHARDED && s < c->shards; s++) {
        o.misplaced += misplaced(&shards[s].m, s, c->shards);
        counts_merge(result, &shards[s].m);
        free(shards[s].m.slots);
        pthread_mutex_destroy(&shards[s].mu);
    }
    for (int i = 0; i < r.reducers; i++) {
        o.misplaced += misplaced(&red[i].m, i, c->reducers);
        counts_merge(result, &red[i].m);
        free(red[i].m.slots);
        chan_free(r.reduce[i]);
    }
    for (int i = 0; i < c->workers; i++) {
        o.busiest = w[i].words > o.busiest ? w[i].words : o.busiest;
        o.steals += w[i].steals;
        free(w[i].own.slots);
        if (r.deques)
            free(deques[i].tasks);
    }
    if (r.queue)
        chan_free(r.queue);
    return o;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int n, seed;
    struct config c;
    const char *mistake;
    flag_int_range(&n, "n", 1000000, 1, 50000000, "words in the text");
    flag_int_range(&c.workers, "w", 4, 1, MAX_WORKERS, "workers that map");
    flag_int_range(&c.ntasks, "tasks", 64, 1, 10000, "tasks the text is cut into");
    flag_int_range(&c.reducers, "reducers", 4, 1, MAX_WORKERS, "reducers of map-reduce");
    flag_int_range(&c.shards, "shards", 16, 1, 1024, "shards of the sharded map");
    flag_int(&seed, "seed", 1, "seed of the text");
    flag_mode(&mistake, "break", "unlocked", "count into one shared map without its mutex");
    flag_parse(argc, argv);

    size_t size;
    char *text = make_text(n, (uint64_t)seed, &size);
    c.tasks = make_tasks(text, size, c.ntasks);
    size_t smallest = SIZE_MAX, largest = 0;
    for (int t = 0; t < c.ntasks; t++) {
        size_t s = (size_t)(c.tasks[t].end - c.tasks[t].begin);
        smallest = s < smallest ? s : smallest, largest = s > largest ? s : largest;
    }
    printf("%d words, %.1f MB, seed %d; %d tasks of %zu to %zu bytes; %d workers\n", n,
           (double)size / 1e6, seed, c.ntasks, smallest, largest, c.workers);
    printf("%-11s %-10s %-8s %-8s %-17s %s\n", "variant", "time", "speedup", "busiest", "checksum",
           "counts");

    struct counts ref;
    duration single = 0;
    int wrong = 0;
    for (enum variant v = SINGLE; v <= STEALING; v++) {
        if (v == (mistake ? MUTEX : UNLOCKED))
            continue;
        struct counts result;
        struct outcome o = count(v, &c, &result);
        long diff = v == SINGLE ? 0 : differences(&ref, &result);
        char verdict[64] = "= single", ms[32], speedup[16], share[16];
        if (v == SINGLE) {
            ref = result, single = o.took;
            snprintf(verdict, sizeof verdict, "%zu distinct words", ref.len);
        } else if (diff)
            snprintf(verdict, sizeof verdict, "DIFFER: %ld words", diff);
        else if (o.misplaced)
            snprintf(verdict, sizeof verdict, "MISPLACED: %ld words", o.misplaced);
        else if (v == STEALING)
            snprintf(verdict, sizeof verdict, "= single, %ld steals", o.steals);
        wrong += diff || o.misplaced;
        snprintf(ms, sizeof ms, "%.1fms", (double)o.took / 1e6);
        snprintf(speedup, sizeof speedup, "%.2fx", (double)single / (double)(o.took ? o.took : 1));
        snprintf(share, sizeof share, "%ld%%", (o.busiest * 100 + n / 2) / n);
        printf("%-11s %-10s %-8s %-8s %016llx  %s\n", names[v], ms, speedup, share,
               (unsigned long long)checksum(&result), verdict);
        if (v != SINGLE)
            free(result.slots);
    }
    free(ref.slots);
    free((void *)c.tasks);
    free(text);
    if (wrong)
        printf("main: %d variants failed their check\n", wrong);
    else
        printf("main: every variant counted what one thread counts\n");
    /* go_leaks waits up to a second for goroutines to return, as goleak does,
     * and names on stderr any still running. */
    int left = 1 + go_leaks(SECOND);
    printf("goroutines at the end: %d (main and %d leaked)\n", left, left - 1);
    return wrong ? 1 : 0;
}
