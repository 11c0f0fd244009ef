/* patterns/pool-and-map/pool-and-map.h: what main.c's maps are built on,
 * kept out of the lesson's way: a hash table from long to a value or an
 * entry (open addressing, one thread at a time or under its owner's lock),
 * and splitmix64 for the keys. Static functions, for main.c alone; main.go
 * uses Go's map.
 */
#ifndef PATTERNS_POOL_AND_MAP_H
#define PATTERNS_POOL_AND_MAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct entry;

struct slot {
    long key;
    bool used;
    union {
        long value;          /* the rwmutex and sharded maps */
        struct entry *entry; /* sync.Map's snapshot and dirty map */
    };
};

struct table { /* open addressing: cap a power of 2, at most half full */
    size_t cap, len;
    struct slot *slots;
};

static uint64_t mix(uint64_t z) { /* splitmix64's finalizer: a key's hash */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static struct table *table_new(size_t cap) {
    struct table *t = malloc(sizeof *t);
    *t = (struct table){cap, 0, calloc(cap, sizeof(struct slot))};
    return t;
}

/* The key's slot, or the free slot where it would go. */
static struct slot *table_find(const struct table *t, long key) {
    for (size_t i = mix((uint64_t)key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1))
        if (!t->slots[i].used || t->slots[i].key == key)
            return &t->slots[i];
}

static struct slot *table_insert(struct table *t, long key) {
    if ((t->len + 1) * 2 > t->cap) { /* full: twice the slots (never a published table's) */
        struct table old = *t;
        t->cap *= 2, t->slots = calloc(t->cap, sizeof(struct slot));
        for (size_t i = 0; i < old.cap; i++)
            if (old.slots[i].used)
                *table_find(t, old.slots[i].key) = old.slots[i];
        free(old.slots);
    }
    struct slot *s = table_find(t, key);
    if (!s->used)
        *s = (struct slot){.key = key, .used = true}, t->len++;
    return s;
}

static void table_free(struct table *t) {
    if (t)
        free(t->slots), free(t);
}

/* splitmix64: each goroutine's keys, the same in C and in Go. */
static uint64_t next_random(uint64_t *state) {
    *state += 0x9e3779b97f4a7c15u;
    return mix(*state);
}

#endif
