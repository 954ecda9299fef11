/* Marking: the explicit mark stack, the word loop that tests candidate pointers, the roots, and
 * the recovery from a mark-stack overflow (rescan of the marked objects). */
#include "gc/gc_internal.h"

#include <string.h>

#include "scan/scan.h"

#define INITIAL_STACK 4096 /* entries */

/* Makes room for at least one more entry. Returns 0, or -1 when the stack may not grow: the
 * caller then drops the entry (its object stays marked) and the overflow pass rescans. */
static int stack_grow(void)
{
    struct mw__gc_vec *s = &mw__gc.mark_stack;
    size_t want = s->cap ? s->cap * 2 : INITIAL_STACK;
    size_t max = mw__gc.opt.mark_stack;

    if (max) {
        if (s->cap >= max) {
            mw__gc.overflowed = 1;
            return -1;
        }
        if (want > max)
            want = max;
    }
    if (mw__gc_vec_reserve(s, sizeof(struct mw__gc_mse), want) < 0) {
        mw__gc.overflowed = 1;
        return -1;
    }
    if (max && s->cap > max)
        s->cap = max; /* the mapping may round up: honour the limit exactly */
    return 0;
}

static void push(uintptr_t lo, uintptr_t hi)
{
    struct mw__gc_vec *s = &mw__gc.mark_stack;

    if (s->len == s->cap && stack_grow() < 0)
        return;
    MW__GC_VEC_AT(s, struct mw__gc_mse, s->len).lo = lo;
    MW__GC_VEC_AT(s, struct mw__gc_mse, s->len).hi = hi;
    s->len++;
}

/* A candidate in a huge mapping: marks it; returns 1 when it must be scanned. */
static int __attribute__((noinline)) mark_huge(uintptr_t e, uintptr_t v, uint64_t *marked)
{
    struct mw__gc_chunk *c = (struct mw__gc_chunk *)(e & ~(MW__GC_CHUNK - 1));

    if (!mw__gc_huge_hit(c, v) || (c->bits[4] & 1))
        return 0;
    c->bits[4] |= 1;
    *marked += c->obj_size;
    return !(c->flags & MW__GC_ATOMIC);
}

#define RING 32 /* objects in flight between their prefetch and their scan */
#define CAND 8  /* candidate pointers between the prefetch of their descriptor and their test */

/* The mark stack as the drain loop holds it, in registers. */
struct drain {
    struct mw__gc_vec *s;
    struct mw__gc_mse *st;
    size_t top, cap;
    uint64_t marked;
};

static inline __attribute__((always_inline)) void push_obj(struct drain *d, uintptr_t lo,
                                                           uintptr_t hi)
{
    if (MW__GC_UNLIKELY(d->top == d->cap)) {
        d->s->len = d->top;
        if (stack_grow() < 0)
            return; /* dropped: the object is marked, the overflow pass rescans it */
        d->st = d->s->data;
        d->cap = d->s->cap;
    }
    d->st[d->top].lo = lo;
    d->st[d->top].hi = hi;
    d->top++;
}

/* Marks the object that v points into, in normal chunk n, and queues it for scanning. */
static inline __attribute__((always_inline)) void mark_small(struct drain *d, uintptr_t v,
                                                             struct mw__gc_normal *n)
{
    const struct mw__gc_pd *pd = &n->pd[mw__gc_page_of(v)];
    uintptr_t base, start;
    uint64_t *w, m;
    unsigned slot;

    if (pd->kind < MW__GC_SMALL) {
        if (pd->kind == MW__GC_FREE)
            mw__gc_black_list(n, v);
        return;
    }
    base = mw__gc_block_addr(n, pd->head);
    slot = (unsigned)(((uint64_t)(v - base) * pd->recip) >> 32);
    if (slot >= pd->nslots)
        return;
    w = mw__gc_group(n, pd->head, slot >> 6);
    m = (uint64_t)1 << (slot & 63);
    if (!(w[0] & m) || (w[4] & m))
        return;
    w[4] |= m;
    d->marked += pd->size;
    if (pd->flags & MW__GC_ATOMIC)
        return;
    start = base + (uintptr_t)slot * pd->size;
    push_obj(d, start, start + pd->size);
}

void mw__gc_mark_drain(void)
{
    struct drain d = {&mw__gc.mark_stack, mw__gc.mark_stack.data, mw__gc.mark_stack.len,
                      mw__gc.mark_stack.cap, 0};
    /* Two scalar arrays, not an array of pairs: a pair copied with one 16-byte load would not
     * be forwarded from the two 8-byte stores that pushed it, and stall. */
    uintptr_t ring_lo[RING], ring_hi[RING], cand_v[CAND];
    struct mw__gc_normal *cand_n[CAND];
    unsigned rh = 0, rn = 0, ch = 0, cn = 0;
    const uintptr_t lo = mw__gc.heap_lo, span = mw__gc.heap_hi - mw__gc.heap_lo;

    for (;;) {
        uintptr_t p, end;

        /* Move objects from the stack to the ring, prefetching each: by the time one is
         * scanned, RING - 1 others were, and its cache lines have had time to arrive. */
        while (rn < RING && d.top) {
            unsigned i = (rh + rn) & (RING - 1);
            uintptr_t elo, ehi;
            d.top--;
            elo = d.st[d.top].lo;
            ehi = d.st[d.top].hi;
            if (ehi - elo > MW__GC_SCAN_SLICE) {
                /* A slice now, the rest back on the stack: the stack stays shallow. */
                d.st[d.top].lo = elo + MW__GC_SCAN_SLICE;
                d.top++;
                ehi = elo + MW__GC_SCAN_SLICE;
            }
            __builtin_prefetch((const void *)elo);
            ring_lo[i] = elo;
            ring_hi[i] = ehi;
            rn++;
        }
        if (!rn) {
            if (!cn)
                break;
            /* Nothing left to scan: test the pending candidates (they may push more). */
            while (cn) {
                mark_small(&d, cand_v[ch], cand_n[ch]);
                ch = (ch + 1) & (CAND - 1);
                cn--;
            }
            continue;
        }
        p = ring_lo[rh];
        end = ring_hi[rh];
        rh = (rh + 1) & (RING - 1);
        rn--;
        for (; p < end; p += sizeof(uintptr_t)) {
            uintptr_t v = *(const uintptr_t *)p, e;
            struct mw__gc_normal *n;

            if (v - lo >= span)
                continue;
            e = mw__gc_entry(v);
            if (!e)
                continue;
            if (MW__GC_UNLIKELY(e & MW__GC_ENTRY_HUGE)) {
                struct mw__gc_chunk *c = (struct mw__gc_chunk *)(e & ~(MW__GC_CHUNK - 1));
                if (mark_huge(e, v, &d.marked))
                    push_obj(&d, c->obj, c->obj + c->obj_size);
                continue;
            }
            /* Its descriptor is fetched now and tested CAND candidates later, so that the
             * misses of several candidates overlap. */
            n = (struct mw__gc_normal *)e;
            __builtin_prefetch(&n->pd[mw__gc_page_of(v)]);
            if (cn == CAND) {
                mark_small(&d, cand_v[ch], cand_n[ch]);
                cand_v[ch] = v;
                cand_n[ch] = n;
                ch = (ch + 1) & (CAND - 1);
            } else {
                cand_v[(ch + cn) & (CAND - 1)] = v;
                cand_n[(ch + cn) & (CAND - 1)] = n;
                cn++;
            }
        }
    }
    d.s->len = 0;
    mw__gc.marked_bytes += d.marked;
}

void mw__gc_mark_range(uintptr_t lo, uintptr_t hi)
{
    lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
    hi &= ~(uintptr_t)(sizeof(uintptr_t) - 1);
    if (lo >= hi)
        return;
    push(lo, hi);
    mw__gc_mark_drain();
}

int mw__gc_mark_object(uintptr_t v, int count)
{
    struct mw__gc_ref r;

    if (!mw__gc_find(v, &r) || (r.alloc[4] & r.mask))
        return 0;
    r.alloc[4] |= r.mask;
    if (count)
        mw__gc.marked_bytes += r.size;
    if (!r.atomic)
        push(r.start, r.start + r.size);
    return 1;
}

/* The slots cursors hold but have not handed out stay reserved: mark them (they are zero, so
 * there is nothing to scan, and they do not count as live). */
void mw__gc_mark_reserved(void)
{
    struct mw__gc_thread *t;
    unsigned k, c, i;

    for (t = mw__gc.threads; t; t = t->next)
        for (k = 0; k < MW__GC_KINDS; k++)
            for (c = 0; c < MW__GC_NCLASSES; c++) {
                struct mw__gc_cursor *cu = &t->cur[k][c];
                struct mw__gc_normal *n;
                unsigned h;
                if (!cu->block)
                    continue;
                n = mw__gc_chunk_of(cu->block);
                h = mw__gc_page_of(cu->block);
                for (i = 0; i < MW__GC_GROUPS; i++)
                    mw__gc_group(n, h, i)[4] |= cu->rest[i];
                if (cu->bits)
                    mw__gc_group(n, h, (unsigned)((cu->base - cu->block) / (64 * cu->size)))[4] |=
                        cu->bits;
            }
}

static void snapshot_cb(void *ctx, uintptr_t lo, uintptr_t hi, enum mw__root_kind kind,
                        const char *object)
{
    struct mw__gc_vec *v = ctx;

    (void)kind;
    (void)object;
    if (mw__gc_vec_reserve(v, sizeof(struct mw__gc_mse), v->len + 1) < 0)
        mw__gc_fatal("out of memory for the root table");
    MW__GC_VEC_AT(v, struct mw__gc_mse, v->len).lo = lo;
    MW__GC_VEC_AT(v, struct mw__gc_mse, v->len).hi = hi;
    v->len++;
}

void mw__gc_roots_snapshot(void)
{
#if defined(MW_GC_EXPLICIT_ROOTS)
    mw__gc.snapshot.len = 0;
    return;
#endif
    /* The collector's globals hold free lists and tables: never roots. */
    mw__range_t skip = {(uintptr_t)&mw__gc, (uintptr_t)(&mw__gc + 1)};

    mw__gc.snapshot.len = 0;
    mw__scan_data_roots(snapshot_cb, &mw__gc.snapshot, &skip, 1);
    mw__scan_tls_roots(snapshot_cb, &mw__gc.snapshot);
}

struct stack_ctx {
    struct mw__gc_thread *self;
};

static void mark_own_stack(void *ctx, uintptr_t sp)
{
    struct stack_ctx *sc = ctx;

    mw__gc_mark_stack(sc->self, sc->self->entry_sp ? sc->self->entry_sp : sp);
}

void mw__gc_mark_roots(struct mw__gc_thread *self)
{
    struct mw__gc_thread *t;
    struct stack_ctx sc = {self};
    size_t i;
    int k;

    for (i = 0; i < mw__gc.snapshot.len; i++) {
        struct mw__gc_mse *r = &MW__GC_VEC_AT(&mw__gc.snapshot, struct mw__gc_mse, i);
        mw__gc_mark_range(r->lo, r->hi);
    }
    for (i = 0; i < mw__gc.roots.len; i++) {
        struct mw__gc_mse *r = &MW__GC_VEC_AT(&mw__gc.roots, struct mw__gc_mse, i);
        mw__gc_mark_range(r->lo, r->hi);
    }
    /* Objects whose finalizers are queued must survive until they ran. */
    for (i = mw__gc.fin_queue_head; i < mw__gc.fin_queue.len; i++)
        mw__gc_mark_object(MW__GC_VEC_AT(&mw__gc.fin_queue, struct mw__gc_fin, i).obj, 1);
    mw__gc_mark_drain();
#if defined(MW_GC_EXPLICIT_ROOTS)
    /* A build for sanitizers: the program's stacks and data are not roots, only what it added
     * with mw_gc_add_roots. */
    (void)t;
    (void)k;
    (void)sc;
    return;
#endif
    for (t = mw__gc.threads; t; t = t->next) {
        if (t == self)
            continue;
        mw__gc_mark_stack(t, t->stop_sp);
        for (k = 0; k < t->tls_n; k++)
            mw__gc_mark_range(t->tls_lo[k], t->tls_hi[k]);
    }
    mw__scan_with_registers(mark_own_stack, &sc);
}

/* Rescans every marked object after an overflow dropped some from the stack, until a whole pass
 * completes without one. */
void mw__gc_mark_finish_overflow(void)
{
    struct mw__gc_chunk *c;

    while (mw__gc.overflowed) {
        mw__gc.overflowed = 0;
        for (c = mw__gc.chunks; c; c = c->next) {
            struct mw__gc_normal *n = (struct mw__gc_normal *)c;
            unsigned p;

            if (c->kind == MW__GC_HUGE) {
                if ((c->bits[4] & 1) && !(c->flags & MW__GC_ATOMIC)) {
                    push(c->obj, c->obj + c->obj_size);
                    mw__gc_mark_drain();
                }
                continue;
            }
            for (p = c->first_page; p < MW__GC_CHUNK_PAGES; p = mw__gc_next_head(n, p)) {
                struct mw__gc_pd *pd = &n->pd[p];
                uintptr_t base = mw__gc_block_addr(n, p);
                unsigned s;
                if (pd->kind < MW__GC_SMALL || (pd->flags & MW__GC_ATOMIC))
                    continue;
                for (s = 0; s < pd->nslots; s++) {
                    if (!(mw__gc_group(n, p, s >> 6)[4] & ((uint64_t)1 << (s & 63))))
                        continue;
                    push(base + (uintptr_t)s * pd->size, base + (uintptr_t)(s + 1) * pd->size);
                    mw__gc_mark_drain();
                }
            }
        }
    }
}
