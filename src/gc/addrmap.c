/* Address-keyed tables for the collector's side tables (weak links, uncollectable objects): open
 * addressing with linear probing, in mmap'd memory the root scan never sees. */
#include "gc/gc_internal.h"

#include <sys/mman.h>

static size_t slot_of(uintptr_t key, size_t cap)
{
    return (size_t)(((key >> 3) * UINT64_C(0x9e3779b97f4a7c15)) >> 17) & (cap - 1);
}

struct mw__gc_pair *mw__gc_map_find(const struct mw__gc_map *m, uintptr_t key)
{
    size_t i;

    if (!m->count)
        return NULL;
    for (i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->slot[i].key == key)
            return &m->slot[i];
        if (m->slot[i].key == 0)
            return NULL;
    }
}

/* Rebuilds the table with cap slots, dropping the deleted ones. Returns 0 or -1. */
static int rehash(struct mw__gc_map *m, size_t cap)
{
    struct mw__gc_pair *t;
    size_t i, j;

    t = mmap(NULL, cap * sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return -1;
    for (i = 0; i < m->cap; i++) {
        if (m->slot[i].key <= MW__GC_MAP_DELETED)
            continue;
        for (j = slot_of(m->slot[i].key, cap); t[j].key; j = (j + 1) & (cap - 1))
            ;
        t[j] = m->slot[i];
    }
    if (m->slot)
        munmap(m->slot, m->cap * sizeof *m->slot);
    m->slot = t;
    m->cap = cap;
    m->used = m->count;
    return 0;
}

struct mw__gc_pair *mw__gc_map_put(struct mw__gc_map *m, uintptr_t key, int *added)
{
    struct mw__gc_pair *p = mw__gc_map_find(m, key);
    size_t i, cap;

    *added = 0;
    if (p)
        return p;
    if ((m->used + 1) * 2 > m->cap) {
        /* Grow when live keys fill a quarter of the new table; otherwise only drop the deleted. */
        for (cap = 256; cap < (m->count + 1) * 4; cap *= 2)
            ;
        if (rehash(m, cap) < 0)
            return NULL;
    }
    for (i = slot_of(key, m->cap); m->slot[i].key > MW__GC_MAP_DELETED; i = (i + 1) & (m->cap - 1))
        ;
    if (m->slot[i].key == 0)
        m->used++;
    m->slot[i].key = key;
    m->slot[i].val = 0;
    m->count++;
    *added = 1;
    return &m->slot[i];
}

void mw__gc_map_del(struct mw__gc_map *m, struct mw__gc_pair *p)
{
    p->key = MW__GC_MAP_DELETED;
    p->val = 0;
    m->count--;
}
