/* patterns/map-reduce/map-reduce.h: what main.c counts with, kept out of
 * the lesson's way: the text (generated from a seed, the same in C and in
 * Go), its tasks, and a map from word to count for one thread at a time.
 * Static functions, for main.c alone; main.go has the same pieces.
 */
#ifndef PATTERNS_MAP_REDUCE_H
#define PATTERNS_MAP_REDUCE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VOCABULARY 10000 /* words the text draws from */

/* splitmix64: the same text in C and in Go for the same seed. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* FNV-1a, the same in C and in Go (whose own map hash is seeded at random):
 * it picks a word's shard and its reducer. */
static uint64_t hash_word(const char *w, size_t len) {
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)w[i]) * 0x100000001b3u;
    return h;
}

/* ---- The counts: a hash map from word to count, one thread at a time ---- */

struct entry {
    const char *word; /* into the text, which outlives every map; NULL: a free slot */
    size_t len;
    uint64_t hash;
    long count;
};

struct counts { /* open addressing: cap a power of 2, at most 3/4 full */
    struct entry *slots;
    size_t cap, len;
};

static void counts_init(struct counts *m, size_t hint) {
    for (m->cap = 16; m->cap * 3 < hint * 4;)
        m->cap *= 2;
    m->slots = calloc(m->cap, sizeof *m->slots);
    m->len = 0;
}

/* The slot of the word, or the free slot where it would go. */
static struct entry *counts_find(const struct counts *m, const char *w, size_t len, uint64_t h) {
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct entry *e = &m->slots[i];
        if (!e->word || (e->hash == h && e->len == len && memcmp(e->word, w, len) == 0))
            return e;
    }
}

static void counts_add(struct counts *m, const char *w, size_t len, uint64_t h, long n) {
    struct entry *e = counts_find(m, w, len, h);
    if (!e->word && (m->len + 1) * 4 > m->cap * 3) { /* full: twice the slots */
        struct counts bigger;
        counts_init(&bigger, m->cap);
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].word)
                *counts_find(&bigger, m->slots[i].word, m->slots[i].len, m->slots[i].hash) =
                    m->slots[i];
        bigger.len = m->len;
        free(m->slots);
        *m = bigger;
        e = counts_find(m, w, len, h);
    }
    if (!e->word) {
        *e = (struct entry){w, len, h, 0};
        m->len++;
    }
    e->count += n;
}

static void counts_merge(struct counts *into, const struct counts *from) {
    for (size_t i = 0; i < from->cap; i++)
        if (from->slots[i].word)
            counts_add(into, from->slots[i].word, from->slots[i].len, from->slots[i].hash,
                       from->slots[i].count);
}

/* The words m counts differently from ref: missing, wrong, or extra. */
static long differences(const struct counts *ref, const struct counts *m) {
    long diff = 0;
    for (int pass = 0; pass < 2; pass++) {
        const struct counts *a = pass ? m : ref, *b = pass ? ref : m;
        for (size_t i = 0; i < a->cap; i++) {
            const struct entry *e = &a->slots[i], *f;
            if (e->word &&
                (!(f = counts_find(b, e->word, e->len, e->hash))->word || f->count != e->count))
                diff++;
        }
    }
    return diff;
}

/* Order-independent, the same in C and in Go: a sum over the words. */
static uint64_t checksum(const struct counts *m) {
    uint64_t sum = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].word) {
            uint64_t z = m->slots[i].hash + (uint64_t)m->slots[i].count;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
            sum += z ^ (z >> 31);
        }
    return sum;
}

/* ---- The text and its tasks ---- */

/* n words drawn by Zipf's law from VOCABULARY made-up words (the k-th most
 * common k times rarer than the first, as in real text), 12 to a line. */
static char *make_text(int n, uint64_t seed, size_t *size) {
    static char vocab[VOCABULARY][10];
    static uint64_t cum[VOCABULARY]; /* cumulative weights, 2^32/(k+1) each */
    uint64_t state = seed, total = 0;
    for (int k = 0; k < VOCABULARY; k++) {
        uint64_t r = next_random(&state);
        int len = 2 + (int)(r % 8);
        for (int j = 0; j < len; j++)
            vocab[k][j] = (char)('a' + (r >> (8 + 5 * j)) % 26);
        vocab[k][len] = '\0';
        cum[k] = total += ((uint64_t)1 << 32) / (uint64_t)(k + 1);
    }
    char *text = malloc((size_t)n * 10 + 16), *p = text; /* room for a stray read past the end */
    for (int i = 0; i < n; i++) {
        uint64_t r = next_random(&state) % total;
        int lo = 0, hi = VOCABULARY - 1; /* the first k with cum[k] > r */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (cum[mid] > r)
                hi = mid;
            else
                lo = mid + 1;
        }
        size_t len = strlen(vocab[lo]);
        memcpy(p, vocab[lo], len);
        p += len;
        *p++ = (i + 1) % 12 == 0 || i == n - 1 ? '\n' : ' ';
    }
    *size = (size_t)(p - text);
    memset(p, 0, 16);
    return text;
}

struct task {
    const char *begin, *end; /* whole words, each followed by its separator */
};

/* ntasks tasks, task i weighing 2^(8(ntasks-1-i)/ntasks): from 128 down to
 * 1, the big ones first, each cut at the start of a word. */
static struct task *make_tasks(const char *text, size_t size, int ntasks) {
    struct task *tasks = malloc(sizeof *tasks * (size_t)ntasks);
    uint64_t total = 0, cum = 0;
    for (int i = 0; i < ntasks; i++)
        total += (uint64_t)1 << (8 * (ntasks - 1 - i) / ntasks);
    size_t begin = 0;
    for (int i = 0; i < ntasks; i++) {
        cum += (uint64_t)1 << (8 * (ntasks - 1 - i) / ntasks);
        size_t end = (size_t)((uint64_t)size * cum / total);
        while (end > 0 && end < size && text[end - 1] != ' ' && text[end - 1] != '\n')
            end++;
        tasks[i] = (struct task){text + begin, text + end};
        begin = end;
    }
    return tasks;
}

#endif
