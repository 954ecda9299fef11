/* Finalizers: the table of finalizable objects, the ordering pass run after marking, and the
 * queue of finalizers that became due, run outside the collector. */
#include "gc/gc_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define DELETED ((uintptr_t)1)

static size_t slot_of(uintptr_t obj, size_t cap)
{
    return (size_t)(((obj >> 4) * UINT64_C(0x9e3779b97f4a7c15)) >> 20) & (cap - 1);
}

static struct mw__gc_fin *lookup(uintptr_t obj)
{
    size_t i, cap = mw__gc.fin_cap;

    if (!cap)
        return NULL;
    for (i = slot_of(obj, cap);; i = (i + 1) & (cap - 1)) {
        if (mw__gc.fin[i].obj == obj)
            return &mw__gc.fin[i];
        if (mw__gc.fin[i].obj == 0)
            return NULL;
    }
}

static int rehash(size_t cap)
{
    struct mw__gc_fin *old = mw__gc.fin, *t;
    size_t i, oldcap = mw__gc.fin_cap;

    t = mmap(NULL, cap * sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return -ENOMEM;
    for (i = 0; i < oldcap; i++) {
        size_t j;
        if (old[i].obj <= DELETED)
            continue;
        for (j = slot_of(old[i].obj, cap); t[j].obj; j = (j + 1) & (cap - 1))
            ;
        t[j] = old[i];
    }
    if (old)
        munmap(old, oldcap * sizeof *old);
    mw__gc.fin = t;
    mw__gc.fin_cap = cap;
    mw__gc.fin_used = mw__gc.fin_count;
    return 0;
}

static void forget(struct mw__gc_fin *f)
{
    f->obj = DELETED;
    f->fn = NULL;
    f->ctx = NULL;
    f->flags = 0;
    mw__gc.fin_count--;
}

void mw__gc_finalize_forget(uintptr_t obj)
{
    struct mw__gc_fin *f = lookup(obj);
    if (f)
        forget(f);
}

int mw__gc_finalize_has(uintptr_t obj)
{
    return lookup(obj) != NULL;
}

int mw_gc_replace_finalizer(void *p, mw_gc_finalizer_fn fn, void *ctx, unsigned flags,
                            mw_gc_finalizer_fn *old_fn, void **old_ctx)
{
    struct mw__gc_ref r;
    struct mw__gc_fin *f;
    uintptr_t obj = (uintptr_t)p;
    size_t i;
    int ret = 0;

    if (flags & ~(unsigned)MW_GC_FINALIZE_UNORDERED)
        return -EINVAL;
    mw__gc_me();
    mw__gc_lock();
    if (!p || !mw__gc_find(obj, &r) || r.start != obj) {
        ret = -EINVAL;
        goto out;
    }
    f = lookup(obj);
    if (old_fn)
        *old_fn = f ? f->fn : NULL;
    if (old_ctx)
        *old_ctx = f ? f->ctx : NULL;
    if (!fn) {
        if (f)
            forget(f);
        goto out;
    }
    if (f) {
        f->fn = fn;
        f->ctx = ctx;
        f->flags = flags;
        goto out;
    }
    if ((mw__gc.fin_used + 1) * 2 > mw__gc.fin_cap &&
        rehash(mw__gc.fin_cap ? (mw__gc.fin_count + 1) * 4 > mw__gc.fin_cap ? mw__gc.fin_cap * 2
                                                                            : mw__gc.fin_cap
                              : 64) < 0) {
        ret = -ENOMEM;
        goto out;
    }
    for (i = slot_of(obj, mw__gc.fin_cap); mw__gc.fin[i].obj > DELETED;
         i = (i + 1) & (mw__gc.fin_cap - 1))
        ;
    if (mw__gc.fin[i].obj == 0)
        mw__gc.fin_used++;
    mw__gc.fin[i].obj = obj;
    mw__gc.fin[i].fn = fn;
    mw__gc.fin[i].ctx = ctx;
    mw__gc.fin[i].flags = flags;
    mw__gc.fin_count++;
out:
    mw__gc_unlock();
    return ret;
}

int mw_gc_set_finalizer(void *p, mw_gc_finalizer_fn fn, void *ctx)
{
    return mw_gc_replace_finalizer(p, fn, ctx, 0, NULL, NULL);
}

static int is_marked(uintptr_t obj, struct mw__gc_ref *r)
{
    return mw__gc_find(obj, r) && (r->alloc[4] & r->mask);
}

/* A finalizable object nothing marked is due, unless another due object reaches it (then it waits
 * for that one's finalizer; an unordered one delays nobody). Everything a due object reaches is
 * kept, and so is the object itself, until its finalizer ran. */
static void decide(void)
{
    struct mw__gc_ref r;
    size_t i, first, cap = mw__gc.fin_cap;
    struct mw__gc_vec *q = &mw__gc.fin_queue;

    /* Pass 1: mark from the contents of each unmarked ordered finalizable object, the object
     * itself excepted (a pointer to itself must not keep it). */
    for (i = 0; i < cap; i++) {
        uintptr_t obj = mw__gc.fin[i].obj;
        if (obj <= DELETED || (mw__gc.fin[i].flags & MW_GC_FINALIZE_UNORDERED) ||
            !mw__gc_find(obj, &r) || (r.alloc[4] & r.mask))
            continue;
        r.alloc[4] |= r.mask;
        if (!r.atomic) {
            mw__gc_mark_range(r.start, r.start + r.size);
            mw__gc_mark_finish_overflow();
        }
        r.alloc[4] &= ~r.mask;
    }
    /* Pass 2: what is still unmarked is due; all of it, before any is marked (an unordered
     * object reaching another due one must not save it). */
    first = q->len;
    for (i = 0; i < cap; i++) {
        struct mw__gc_fin *f = &mw__gc.fin[i];
        if (f->obj <= DELETED || is_marked(f->obj, &r))
            continue;
        if (mw__gc_vec_reserve(q, sizeof *f, q->len + 1) < 0)
            continue; /* try again next time */
        MW__GC_VEC_AT(q, struct mw__gc_fin, q->len++) = *f;
        forget(f);
    }
    /* Pass 3: the due objects, and all they reach, live until their finalizers ran. */
    for (i = first; i < q->len; i++) {
        mw__gc_mark_object(MW__GC_VEC_AT(q, struct mw__gc_fin, i).obj, 1);
        mw__gc_mark_drain();
    }
    mw__gc_mark_finish_overflow();
}

/* After marking from the roots: the roots the program does not hold (uncollectable objects), the
 * weak links that break before finalization, the finalizers that became due, then the weak links
 * that break after it. */
void mw__gc_finalize_mark(void)
{
    mw__gc_uncollectable_mark();
    mw__gc_weak_clear(0);
    if (mw__gc.fin_count)
        decide();
    mw__gc_weak_clear(1);
}

int mw__gc_queue_holds(uintptr_t lo, uintptr_t hi)
{
    size_t i;

    for (i = mw__gc.fin_queue_head; i < mw__gc.fin_queue.len; i++) {
        uintptr_t o = MW__GC_VEC_AT(&mw__gc.fin_queue, struct mw__gc_fin, i).obj;
        if (o >= lo && o < hi)
            return 1;
    }
    return 0;
}

void mw__gc_run_finalizers(void)
{
    struct mw__gc_fin f;

    mw__gc_lock();
    if (mw__gc.in_finalizers) {
        mw__gc_unlock();
        return;
    }
    mw__gc.in_finalizers = 1;
    for (;;) {
        if (mw__gc.fin_queue_head >= mw__gc.fin_queue.len) {
            mw__gc.fin_queue_head = mw__gc.fin_queue.len = 0;
            break;
        }
        f = MW__GC_VEC_AT(&mw__gc.fin_queue, struct mw__gc_fin, mw__gc.fin_queue_head++);
        mw__gc.stats.finalizers_run++;
        mw__gc_unlock();
        f.fn((void *)f.obj, f.ctx);
        mw__gc_lock();
    }
    mw__gc.in_finalizers = 0;
    mw__gc_unlock();
}
