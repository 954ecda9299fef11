/* One collection from start to end: finish the lazy sweep, mark from the roots with the world
 * stopped, decide finalization, free what is empty, queue the rest for lazy sweeping, give idle
 * pages back; plus the growth trigger and the statistics. */
#include "gc/gc_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scan/scan.h"

/* Visits every block of every normal chunk; fn may free the block it is given. */
static void each_block(void (*fn)(struct mw__gc_normal *n, unsigned head))
{
    struct mw__gc_chunk *c, *next;

    for (c = mw__gc.chunks; c; c = next) {
        struct mw__gc_normal *n = (struct mw__gc_normal *)c;
        unsigned p, len;
        next = c->next;
        if (c->kind != MW__GC_NORMAL)
            continue;
        for (p = c->first_page; p < MW__GC_CHUNK_PAGES; p += len) {
            len = mw__gc_next_head(n, p) - p;
            if (n->pd[p].kind >= MW__GC_SMALL)
                fn(n, p);
        }
    }
}

static void finish_sweep(struct mw__gc_normal *n, unsigned head)
{
    if (n->pd[head].flags & MW__GC_UNSWEPT)
        mw__gc_sweep_block(n, head);
    n->pd[head].flags &= (uint8_t)~MW__GC_LISTED; /* the sweep lists start over */
}

static void after_mark(struct mw__gc_normal *n, unsigned head)
{
    struct mw__gc_pd *pd = &n->pd[head];
    uint64_t *w = n->bits[head], marks = 0, allocs = 0, live = 0;
    unsigned i, groups = 4u * pd->npages;

    if (pd->kind == MW__GC_LARGE) {
        if (w[4] & 1) {
            w[4] = 0;
            mw__gc.live_kind[pd->flags & MW__GC_ATOMIC ? 1 : 0] += pd->size;
        } else {
            mw__gc.stats.freed_bytes += pd->size;
            w[0] = 0;
            mw__gc_pages_free(n, head, pd->npages);
        }
        return;
    }
    if (pd->flags & MW__GC_OWNED) {
        /* A cursor allocates from it: sweep now (its reserved slots are marked) and let the
         * cursor hand the block back when it moves on. */
        mw__gc_sweep_block(n, head);
        pd->flags |= MW__GC_SEEN;
        return;
    }
    for (i = 0; i < groups; i++) {
        uint64_t m = mw__gc_group(n, head, i)[4];
        marks |= m;
        if (m)
            live += mw__gc_popcount(m);
    }
    mw__gc.live_kind[pd->flags & MW__GC_ATOMIC ? 1 : 0] += live * pd->size;
    if (!marks) {
        for (i = 0; i < groups; i++)
            allocs += mw__gc_popcount(*mw__gc_group(n, head, i));
        mw__gc.stats.freed_bytes += allocs * pd->size;
        if (mw__gc.opt.poison) {
            MW__GC_ACCESSIBLE(mw__gc_block_addr(n, head), (size_t)pd->npages << MW__GC_PAGE_SHIFT);
            memset((void *)mw__gc_block_addr(n, head), 0xa5,
                   (size_t)pd->npages << MW__GC_PAGE_SHIFT);
        }
        memset(w, 0, (size_t)pd->npages * sizeof n->bits[0]);
        mw__gc_pages_free(n, head, pd->npages);
        return;
    }
    if (mw__gc.opt.poison) {
        mw__gc_sweep_block(n, head);
    } else {
        pd->flags |= MW__GC_UNSWEPT;
    }
    mw__gc_sweep_push(pd->flags & MW__GC_ATOMIC ? 1 : 0, mw__gc.class_of[pd->size / MW__GC_GRANULE],
                      mw__gc_block_addr(n, head));
}

static void free_huge(void)
{
    struct mw__gc_chunk *c, *next;

    for (c = mw__gc.chunks; c; c = next) {
        next = c->next;
        if (c->kind != MW__GC_HUGE)
            continue;
        if (c->bits[4] & 1) {
            c->bits[4] = 0;
            mw__gc.live_kind[c->flags & MW__GC_ATOMIC ? 1 : 0] += c->obj_size;
        } else {
            mw__gc.stats.freed_bytes += c->obj_size;
            c->bits[0] = 0;
            mw__gc_huge_free(c);
        }
    }
}

/* Bytes the next collection will have to read: the scanned live objects, the atomic ones at a
 * quarter (they are marked, never read), the roots. */
static uint64_t mark_work(void)
{
    uint64_t w = mw__gc.live_kind[0] + mw__gc.live_kind[1] / 4;
    size_t i;

    for (i = 0; i < mw__gc.snapshot.len; i++) {
        struct mw__gc_mse *r = &MW__GC_VEC_AT(&mw__gc.snapshot, struct mw__gc_mse, i);
        w += r->hi - r->lo;
    }
    for (i = 0; i < mw__gc.roots.len; i++) {
        struct mw__gc_mse *r = &MW__GC_VEC_AT(&mw__gc.roots, struct mw__gc_mse, i);
        w += r->hi - r->lo;
    }
    return w;
}

/* Allocation allowed before the next collection: the free space the heap already holds, kept
 * between lo and hi, where
 *   lo = the largest of: GROWTH % of the work of a collection (so a full heap grows instead of
 *        collecting all the time, and the time spent marking stays in proportion to the
 *        allocation); 5 x GROWTH % of it, but no more than SMALL_GROWTH (a small heap may take a
 *        few times its live set: a few MiB, and far fewer collections); MIN_ALLOC (the floor:
 *        with next to nothing live a collection costs little, so it may come often);
 *   hi = the larger of lo and 2 x GROWTH % of the work (so the heap follows the live set down
 *        when it shrinks: the pages beyond go idle and back to the OS);
 * and enough to let the heap reach MIN_HEAP. */
static uint64_t next_threshold(uint64_t live)
{
    uint64_t heap = mw__gc_heap_bytes(), w = mark_work() / 100 * mw__gc.opt.growth, lo, hi,
             t = heap > live ? heap - live : 0;

    lo = MW__GC_MAX(w, MW__GC_MIN(5 * w, mw__gc.opt.small_growth));
    if (lo < mw__gc.opt.min_alloc)
        lo = mw__gc.opt.min_alloc;
    hi = MW__GC_MAX(lo, 2 * w);
    if (t > hi)
        t = hi;
    if (t < lo)
        t = lo;
    if (live < mw__gc.opt.min_heap && t < mw__gc.opt.min_heap - live)
        t = mw__gc.opt.min_heap - live;
    return t;
}

void mw__gc_collect_locked(const char *why)
{
    struct mw__gc_thread *self = mw__gc_self;
    uint64_t t0 = mw__gc_now_ns(), dt;
    unsigned k, c;

    mw__gc.collecting = 1;
    /* Every block must have clear mark bits and exact alloc bits before marking. */
    if (mw__gc.opt.check)
        mw__gc_pages_check();
    each_block(finish_sweep);
    for (k = 0; k < MW__GC_KINDS; k++)
        for (c = 0; c < MW__GC_NCLASSES; c++)
            mw__gc.sweep[k][c].len = 0;
    /* dl_iterate_phdr takes the loader's lock: ask it before other threads stop. */
    mw__gc_roots_snapshot();

    mw__gc.bl_epoch = mw__gc_bl_epoch(mw__gc.gc_count + 1);
    mw__gc_stop_world();
    mw__gc.marked_bytes = 0;
    mw__gc.live_kind[0] = mw__gc.live_kind[1] = 0;
    mw__gc_mark_roots(self);
    mw__gc_mark_finish_overflow();
    mw__gc_finalize_mark();
    /* Last, so the overflow rescan never scans the reserved (zero, or poisoned) slots. */
    mw__gc_mark_reserved();
    mw__gc_start_world();

    /* Other threads only use their own cursors now; the rest waits for the lock. */
    each_block(after_mark);
    free_huge();
    mw__gc.gc_count++;
    mw__gc_pages_trim();
    if (mw__gc.opt.check)
        mw__gc_pages_check();

    mw__gc.stats.collections++;
    mw__gc.stats.live_bytes = mw__gc.marked_bytes;
    mw__gc.since_gc = 0;
    mw__gc.claimed = 0;
    mw__gc.bl_grown = 0;
    mw__gc.threshold = next_threshold(mw__gc.marked_bytes);
    dt = mw__gc_now_ns() - t0;
    mw__gc.stats.pause_total_ns += dt;
    if (dt > mw__gc.stats.pause_max_ns)
        mw__gc.stats.pause_max_ns = dt;
    mw__gc.collecting = 0;
    if (mw__gc.opt.verbose) {
        char buf[200];
        int len = snprintf(buf, sizeof buf,
                           "memwalk gc: collection %llu (%s): %llu KiB live, heap %llu KiB, "
                           "%.3f ms\n",
                           (unsigned long long)mw__gc.stats.collections, why,
                           (unsigned long long)(mw__gc.marked_bytes >> 10),
                           (unsigned long long)(mw__gc_heap_bytes() >> 10), (double)dt / 1e6);
        if (len > 0)
            (void)!write(2, buf, (size_t)MW__GC_MIN(len, (int)sizeof buf - 1));
    }
}

struct entry {
    const char *why;
    int force;
};

/* Runs below the frame where the callee-saved registers were spilled: the stack scan starts at
 * that frame, so the collector's own frames (and the stale values in their unwritten slots) are
 * never roots. */
static void entry_cb(void *ctx, uintptr_t sp)
{
    struct entry *e = ctx;
    struct mw__gc_thread *self = mw__gc_self;

    mw__gc_lock();
    if (!mw__gc.collecting &&
        (e->force || (mw__gc.since_gc >= mw__gc.threshold && !mw__gc.opt.disable))) {
        self->entry_sp = sp;
        mw__gc_collect_locked(e->why);
        self->entry_sp = 0;
    }
    mw__gc_unlock();
}

void mw__gc_collect_entry(const char *why, int force)
{
    struct entry e = {why, force};

    mw__scan_with_registers(entry_cb, &e);
}

void mw__gc_collect_if_due(void)
{
    if (MW__GC_UNLIKELY(mw__gc.since_gc >= mw__gc.threshold) && !mw__gc.opt.disable)
        mw__gc_collect_entry("allocation", 0);
}

void mw_gc_collect(void)
{
    mw__gc_me();
    mw__gc_collect_entry("explicit", 1);
    mw__gc_run_finalizers();
}

void mw_gc_get_stats(mw_gc_stats_t *stats)
{
    uint64_t reserved;

    if (!stats)
        return;
    mw__gc_me();
    mw__gc_lock();
    *stats = mw__gc.stats;
    reserved = mw__gc_reserved_bytes();
    stats->allocated_bytes -= reserved < stats->allocated_bytes ? reserved : stats->allocated_bytes;
    stats->heap_bytes = mw__gc_heap_bytes();
    mw__gc_unlock();
}
