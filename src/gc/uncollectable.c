/* Uncollectable objects: allocated like the others, listed in a table that every collection marks
 * from after the roots, so they (and what they point to) live until mw_gc_free(). */
#include "gc/gc_internal.h"

#include <errno.h>

/* Keys: the objects' start addresses (the marking scans the whole table as a root range). */
static struct mw__gc_map table;

static void *alloc_listed(size_t n, int atomic)
{
    void *p = atomic ? mw_gc_malloc_atomic(n) : mw_gc_malloc(n);
    struct mw__gc_pair *pair;
    int added;

    if (!p)
        return NULL;
    /* Until it is listed, p is held by this frame. */
    mw__gc_lock();
    pair = mw__gc_map_put(&table, (uintptr_t)p, &added);
    mw__gc_unlock();
    if (!pair) {
        mw_gc_free(p);
        errno = ENOMEM;
        return NULL;
    }
    return p;
}

void *mw_gc_malloc_uncollectable(size_t n)
{
    return alloc_listed(n, 0);
}

void *mw_gc_malloc_atomic_uncollectable(size_t n)
{
    return alloc_listed(n, 1);
}

int mw__gc_uncollectable_has(uintptr_t obj)
{
    return mw__gc_map_find(&table, obj) != NULL;
}

void mw__gc_uncollectable_forget(uintptr_t obj)
{
    struct mw__gc_pair *p = mw__gc_map_find(&table, obj);

    if (p)
        mw__gc_map_del(&table, p);
}

void mw__gc_uncollectable_range(uintptr_t *lo, uintptr_t *hi)
{
    *lo = (uintptr_t)table.slot;
    *hi = table.count ? (uintptr_t)(table.slot + table.cap) : *lo;
}

void mw__gc_uncollectable_mark(void)
{
    if (!table.count)
        return;
    /* Empty slots hold 0 and deleted ones 1: neither points into the heap. */
    mw__gc_mark_range((uintptr_t)table.slot, (uintptr_t)(table.slot + table.cap));
    mw__gc_mark_finish_overflow();
}
