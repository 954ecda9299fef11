/* Deduplicated allocation stacks: each distinct list of instruction pointers gets a small trace
 * id. Lookups take no lock (entries are published with release stores and never change);
 * inserts are serialized by one lock. Memory is mmap'd in chunks that are never moved. */
#include "leak/leak.h"

#include <string.h>

#define PAGE_TRACES 65536u
#define MAX_PAGES   1024u
#define IP_CHUNK    (1u << 20) /* bytes */

struct trace {
    const uintptr_t *ips;
    uint32_t depth;
    uint32_t pad;
};

struct entry {
    uint64_t hash; /* 0: empty */
    uint32_t id;
    uint32_t depth;
};

struct table {
    struct entry *e;
    size_t cap;
};

static struct trace *pages[MAX_PAGES];
static uint32_t ntraces = 1; /* id 0: no stack */
static struct table *current;
static struct table tables[40]; /* one per size ever used; old ones stay readable */
static unsigned ntables;
static size_t used;
static mw__lock_t lock;
static uintptr_t *chunk;
static size_t chunk_left; /* in words */

static uint64_t hash_ips(const uintptr_t *ips, unsigned depth)
{
    uint64_t h = 0x84222325cbf29ce4ull ^ depth;
    unsigned i;

    for (i = 0; i < depth; i++) {
        h ^= ips[i];
        h *= 0x100000001b3ull;
        h ^= h >> 32;
    }
    return h | 1;
}

static int new_table(size_t cap)
{
    struct table *t;

    if (ntables == sizeof(tables) / sizeof(tables[0]))
        return -1;
    t = &tables[ntables];
    t->e = mw__leak_map(cap * sizeof(struct entry));
    if (!t->e)
        return -1;
    t->cap = cap;
    ntables++;
    if (current) {
        size_t i;
        for (i = 0; i < current->cap; i++) {
            struct entry *o = &current->e[i];
            size_t j;
            if (!o->hash)
                continue;
            j = (o->hash >> 7) & (cap - 1);
            while (t->e[j].hash)
                j = (j + 1) & (cap - 1);
            t->e[j] = *o;
        }
    }
    __atomic_store_n(&current, t, __ATOMIC_RELEASE);
    return 0;
}

int mw__traces_init(void)
{
    return new_table(1u << 14);
}

static inline const struct trace *get(uint32_t id)
{
    return &pages[id / PAGE_TRACES][id % PAGE_TRACES];
}

static uint32_t find(const struct table *t, uint64_t h, const uintptr_t *ips, unsigned depth)
{
    size_t j = (h >> 7) & (t->cap - 1);
    uint64_t eh;

    while ((eh = __atomic_load_n(&t->e[j].hash, __ATOMIC_ACQUIRE)) != 0) {
        if (eh == h && t->e[j].depth == depth) {
            const struct trace *tr = get(t->e[j].id);
            unsigned k;
            for (k = 0; k < depth && tr->ips[k] == ips[k]; k++)
                ;
            if (k == depth)
                return t->e[j].id;
        }
        j = (j + 1) & (t->cap - 1);
    }
    return 0;
}

uint32_t mw__traces_intern(const uintptr_t *ips, unsigned depth)
{
    uint64_t h = hash_ips(ips, depth);
    const struct table *t = __atomic_load_n(&current, __ATOMIC_ACQUIRE);
    uint32_t id = find(t, h, ips, depth);
    size_t j;
    uintptr_t *copy;
    struct trace *tr;

    if (id)
        return id;
    mw__lock(&lock);
    id = find(current, h, ips, depth);
    if (id)
        goto out;
    if (ntraces >= PAGE_TRACES * MAX_PAGES || ntraces >= (1u << 24)) {
        /* id 0: recorded without a stack (blocks.c keeps 24 bits of trace id) */
        mw__leak_limit(MW__LEAK_LIMIT_TRACES, "too many distinct stacks");
        goto out;
    }
    if ((used + 1) * 2 > current->cap && new_table(current->cap * 2) < 0) {
        mw__leak_limit(MW__LEAK_LIMIT_TRACES, "too many distinct stacks");
        goto out;
    }
    if (!pages[ntraces / PAGE_TRACES]) {
        pages[ntraces / PAGE_TRACES] = mw__leak_map(PAGE_TRACES * sizeof(struct trace));
        if (!pages[ntraces / PAGE_TRACES])
            goto out;
    }
    if (chunk_left < depth) {
        chunk = mw__leak_map(IP_CHUNK);
        if (!chunk) {
            chunk_left = 0;
            goto out;
        }
        chunk_left = IP_CHUNK / sizeof(uintptr_t);
    }
    copy = chunk;
    memcpy(copy, ips, depth * sizeof(uintptr_t));
    chunk += depth;
    chunk_left -= depth;
    id = ntraces;
    tr = &pages[id / PAGE_TRACES][id % PAGE_TRACES];
    tr->ips = copy;
    tr->depth = depth;
    __atomic_store_n(&ntraces, id + 1, __ATOMIC_RELEASE);
    j = (h >> 7) & (current->cap - 1);
    while (current->e[j].hash)
        j = (j + 1) & (current->cap - 1);
    current->e[j].id = id;
    current->e[j].depth = depth;
    __atomic_store_n(&current->e[j].hash, h, __ATOMIC_RELEASE);
    used++;
out:
    mw__unlock(&lock);
    return id;
}

uint32_t mw__traces_count(void)
{
    return __atomic_load_n(&ntraces, __ATOMIC_ACQUIRE);
}

const uintptr_t *mw__traces_get(uint32_t id, unsigned *depth)
{
    const struct trace *tr;

    if (id == 0 || id >= mw__traces_count()) {
        *depth = 0;
        return NULL;
    }
    tr = get(id);
    *depth = tr->depth;
    return tr->ips;
}

void mw__traces_lock(void)
{
    mw__lock_always(&lock);
}

void mw__traces_unlock(void)
{
    mw__unlock_always(&lock);
}
