/* The live-block table: every block the program holds, keyed by address, with its size, its
 * allocation stack and its allocation number. Sharded open addressing with linear probing and
 * backward-shift deletion; each shard has its own lock and its own memcheck counters. */
#include "leak/leak.h"

#include <string.h>

#define NSHARDS     64
#define SHARD_BITS  6
#define INITIAL_CAP 1024

struct shard {
    mw__lock_t lock;
    uint32_t pad;
    mw__block_t *tab;
    size_t cap; /* power of two */
    size_t count;
    uint64_t allocs, frees, bytes;
} __attribute__((aligned(64)));

static struct shard shards[NSHARDS];
static uint64_t next_seq = 1;

static inline uint64_t mix(uintptr_t a)
{
    uint64_t h = (uint64_t)(a >> 4) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

int mw__blocks_init(void)
{
    size_t i;

    for (i = 0; i < NSHARDS; i++) {
        shards[i].tab = mw__leak_map(INITIAL_CAP * sizeof(mw__block_t));
        if (!shards[i].tab)
            return -1;
        shards[i].cap = INITIAL_CAP;
    }
    return 0;
}

static int grow(struct shard *s)
{
    size_t ncap = s->cap * 2, i;
    mw__block_t *nt = mw__leak_map(ncap * sizeof(mw__block_t));

    if (!nt)
        return -1;
    for (i = 0; i < s->cap; i++) {
        mw__block_t *b = &s->tab[i];
        size_t j;
        if (!b->addr)
            continue;
        j = (mix(b->addr) >> SHARD_BITS) & (ncap - 1);
        while (nt[j].addr)
            j = (j + 1) & (ncap - 1);
        nt[j] = *b;
    }
    mw__leak_unmap(s->tab, s->cap * sizeof(mw__block_t));
    s->tab = nt;
    s->cap = ncap;
    return 0;
}

void mw__blocks_insert(uintptr_t addr, uint64_t size, uint32_t trace)
{
    uint64_t h = mix(addr);
    struct shard *s = &shards[h & (NSHARDS - 1)];
    uint64_t seq;
    size_t j;

    if (mw__leak_mt)
        seq = __atomic_fetch_add(&next_seq, 1, __ATOMIC_RELAXED);
    else
        seq = next_seq++;
    mw__lock(&s->lock);
    s->allocs++;
    s->bytes += size;
    if ((s->count + 1) * 2 > s->cap && grow(s) < 0) {
        mw__unlock(&s->lock);
        mw__leak_disable("out of memory for the block table");
        return;
    }
    j = (h >> SHARD_BITS) & (s->cap - 1);
    while (s->tab[j].addr && s->tab[j].addr != addr)
        j = (j + 1) & (s->cap - 1);
    if (!s->tab[j].addr)
        s->count++;
    s->tab[j].size = size;
    s->tab[j].seq = seq;
    s->tab[j].trace = trace;
    s->tab[j].flags = 0;
    s->tab[j].addr = addr;
    mw__unlock(&s->lock);
}

int mw__blocks_remove(uintptr_t addr, mw__block_t *out)
{
    uint64_t h = mix(addr);
    struct shard *s = &shards[h & (NSHARDS - 1)];
    size_t mask, i, j;

    mw__lock(&s->lock);
    mask = s->cap - 1;
    i = (h >> SHARD_BITS) & mask;
    while (s->tab[i].addr != addr) {
        if (!s->tab[i].addr) {
            mw__unlock(&s->lock);
            return 0;
        }
        i = (i + 1) & mask;
    }
    if (out)
        *out = s->tab[i];
    s->frees++;
    s->count--;
    /* Backward shift: pull later members of the probe run into the hole. */
    for (j = (i + 1) & mask; s->tab[j].addr; j = (j + 1) & mask) {
        size_t home = (mix(s->tab[j].addr) >> SHARD_BITS) & mask;
        /* Move j to i when its home is not in the cyclic range (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            s->tab[i] = s->tab[j];
            i = j;
        }
    }
    s->tab[i].addr = 0;
    mw__unlock(&s->lock);
    return 1;
}

void mw__blocks_restore(const mw__block_t *b)
{
    uint64_t h = mix(b->addr);
    struct shard *s = &shards[h & (NSHARDS - 1)];
    size_t j;

    mw__lock(&s->lock);
    s->frees--;
    if ((s->count + 1) * 2 > s->cap && grow(s) < 0) {
        mw__unlock(&s->lock);
        return;
    }
    j = (h >> SHARD_BITS) & (s->cap - 1);
    while (s->tab[j].addr && s->tab[j].addr != b->addr)
        j = (j + 1) & (s->cap - 1);
    if (!s->tab[j].addr)
        s->count++;
    s->tab[j] = *b;
    mw__unlock(&s->lock);
}

int mw__blocks_find(uintptr_t addr, uint64_t *size)
{
    uint64_t h = mix(addr);
    struct shard *s = &shards[h & (NSHARDS - 1)];
    size_t mask, i;
    int found = 0;

    mw__lock(&s->lock);
    mask = s->cap - 1;
    for (i = (h >> SHARD_BITS) & mask; s->tab[i].addr; i = (i + 1) & mask)
        if (s->tab[i].addr == addr) {
            if (size)
                *size = s->tab[i].size;
            found = 1;
            break;
        }
    mw__unlock(&s->lock);
    return found;
}

void mw__blocks_totals(uint64_t *allocs, uint64_t *frees, uint64_t *bytes)
{
    size_t i;

    *allocs = *frees = *bytes = 0;
    for (i = 0; i < NSHARDS; i++) {
        *allocs += shards[i].allocs;
        *frees += shards[i].frees;
        *bytes += shards[i].bytes;
    }
}

size_t mw__blocks_count(void)
{
    size_t i, n = 0;

    for (i = 0; i < NSHARDS; i++)
        n += shards[i].count;
    return n;
}

size_t mw__blocks_snapshot(mw__block_t *out, size_t max)
{
    size_t i, j, n = 0;

    for (i = 0; i < NSHARDS; i++)
        for (j = 0; j < shards[i].cap; j++)
            if (shards[i].tab[j].addr) {
                if (n < max)
                    out[n] = shards[i].tab[j];
                n++;
            }
    return n;
}

void mw__blocks_lock_all(void)
{
    size_t i;

    for (i = 0; i < NSHARDS; i++)
        mw__lock_always(&shards[i].lock);
}

void mw__blocks_unlock_all(void)
{
    size_t i;

    for (i = 0; i < NSHARDS; i++)
        mw__unlock_always(&shards[i].lock);
}
