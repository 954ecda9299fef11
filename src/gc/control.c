/* The program's controls over the collector: turning collections off and on, the collect-every
 * stress setting, the heap limit and growth, the warning handler, questions about objects and
 * about the heap. */
#include "gc/gc_internal.h"

#include <errno.h>

mw_gc_warn_fn mw__gc_warn_handler;

/* mw_gc_disable nesting, and MEMWALK_GC_DISABLE's value to restore at the last mw_gc_enable.
 * Lock held. */
static unsigned disable_depth;
static int disable_saved;
static uint64_t every_count;

void mw_gc_disable(void)
{
    mw__gc_init();
    mw__gc_lock();
    if (disable_depth++ == 0)
        disable_saved = mw__gc.opt.disable;
    mw__gc.opt.disable = 1;
    mw__gc_unlock();
}

void mw_gc_enable(void)
{
    mw__gc_init();
    mw__gc_lock();
    if (disable_depth > 0 && --disable_depth == 0)
        mw__gc.opt.disable = disable_saved;
    mw__gc_unlock();
}

int mw_gc_is_disabled(void)
{
    mw__gc_init();
    return !!__atomic_load_n(&mw__gc.opt.disable, __ATOMIC_RELAXED);
}

void mw__gc_every_tick(void)
{
    uint64_t k = __atomic_add_fetch(&every_count, 1, __ATOMIC_RELAXED);

    if (k % mw__gc.opt.collect_every == 0 && !mw__gc.opt.disable)
        mw__gc_collect_entry("collect-every", 1);
}

size_t mw_gc_set_max_heap(size_t bytes)
{
    size_t old;

    mw__gc_init();
    mw__gc_lock();
    old = (size_t)mw__gc.opt.max_heap;
    mw__gc.opt.max_heap = bytes;
    mw__gc_unlock();
    return old;
}

int mw_gc_expand_heap(size_t bytes)
{
    /* Take the pages (new chunks, since the free ones come first), then give them all back: they
     * stay in the heap as free pages. */
    const unsigned run = (unsigned)(MW__GC_CHUNK_PAGES - MW__GC_HDR_PAGES);
    struct mw__gc_vec held = {0};
    uint64_t left = ((uint64_t)bytes + MW__GC_PAGE - 1) >> MW__GC_PAGE_SHIFT;
    size_t i;
    int ret = 0, zeroed;

    mw__gc_me();
    mw__gc_lock();
    while (left) {
        unsigned n = (unsigned)MW__GC_MIN(left, (uint64_t)run);
        uintptr_t a;
        if (mw__gc_vec_reserve(&held, sizeof(uintptr_t), held.len + 1) < 0 ||
            !(a = mw__gc_pages_alloc(n, 0, &zeroed))) {
            ret = -ENOMEM;
            break;
        }
        MW__GC_VEC_AT(&held, uintptr_t, held.len++) = a | (uintptr_t)(n - 1);
        /* Not free while held: freeing a neighbour must not merge with it. */
        for (unsigned k = 0; k < n; k++)
            mw__gc_chunk_of(a)->pd[mw__gc_page_of(a) + k].kind = MW__GC_LARGE;
        left -= n;
    }
    for (i = 0; i < held.len; i++) {
        /* A run starts on a page: its low bits hold its length. */
        uintptr_t e = MW__GC_VEC_AT(&held, uintptr_t, i), a = e & ~(MW__GC_PAGE - 1);
        mw__gc_pages_free(mw__gc_chunk_of(a), mw__gc_page_of(a),
                          (unsigned)(e & (MW__GC_PAGE - 1)) + 1);
    }
    mw__gc_vec_free(&held, sizeof(uintptr_t));
    mw__gc_unlock();
    return ret;
}

mw_gc_warn_fn mw_gc_set_warn_handler(mw_gc_warn_fn fn)
{
    return __atomic_exchange_n(&mw__gc_warn_handler, fn, __ATOMIC_ACQ_REL);
}

/* Finds the object holding p; the lock keeps a sweep from changing it meanwhile. */
static int find_object(const void *p, struct mw__gc_ref *r)
{
    int found;

    if (!p)
        return 0;
    mw__gc_init();
    mw__gc_lock();
    found = mw__gc_find_live((uintptr_t)p, r);
    mw__gc_unlock();
    return found;
}

void *mw_gc_base(const void *p)
{
    struct mw__gc_ref r;

    return find_object(p, &r) ? (void *)r.start : NULL;
}

size_t mw_gc_size(const void *p)
{
    struct mw__gc_ref r;

    return find_object(p, &r) ? (size_t)r.size : 0;
}

void *mw_gc_call_locked(void *(*fn)(void *arg), void *arg)
{
    void *ret;

    mw__gc_init();
    mw__gc_lock();
    ret = fn(arg);
    mw__gc_unlock();
    return ret;
}

void mw_gc_get_usage(mw_gc_usage_t *u)
{
    uint64_t reserved, used;

    if (!u)
        return;
    mw__gc_me();
    mw__gc_lock();
    /* Slots a cursor claimed but has not handed out count as allocated in the totals. */
    reserved = mw__gc_reserved_bytes();
    u->heap_bytes = mw__gc_heap_bytes();
    u->since_gc_bytes = mw__gc.since_gc > reserved ? mw__gc.since_gc - reserved : 0;
    u->total_bytes =
        mw__gc.stats.allocated_bytes > reserved ? mw__gc.stats.allocated_bytes - reserved : 0;
    used = mw__gc.stats.live_bytes + u->since_gc_bytes;
    u->free_bytes = u->heap_bytes > used ? u->heap_bytes - used : 0;
    mw__gc_unlock();
}

int mw_gc_thread_is_registered(void)
{
    return mw__gc_self != NULL;
}
