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

    if (v < c->obj || v >= c->obj + c->obj_size || !(c->bits[0] & 1) || (c->bits[4] & 1))
        return 0;
    c->bits[4] |= 1;
    *marked += c->obj_size;
    return !(c->flags & MW__GC_ATOMIC);
}

#define RING 32 /* objects in flight between their prefetch and their scan */

void mw__gc_mark_drain(void)
{
    struct mw__gc_vec *s = &mw__gc.mark_stack;
    struct mw__gc_mse *st = s->data;
    /* Two scalar arrays, not an array of pairs: a pair copied with one 16-byte load would not
     * be forwarded from the two 8-byte stores that pushed it, and stall. */
    uintptr_t ring_lo[RING], ring_hi[RING];
    size_t top = s->len, cap = s->cap;
    unsigned rh = 0, rn = 0;
    const uintptr_t lo = mw__gc.heap_lo, span = mw__gc.heap_hi - mw__gc.heap_lo;
    uint64_t marked = 0;

    for (;;) {
        uintptr_t p, end;

        /* Move objects from the stack to the ring, prefetching each: by the time one is
         * scanned, RING - 1 others were, and its cache lines have had time to arrive. */
        while (rn < RING && top) {
            unsigned i = (rh + rn) & (RING - 1);
            uintptr_t elo, ehi;
            top--;
            elo = st[top].lo;
            ehi = st[top].hi;
            if (ehi - elo > MW__GC_SCAN_SLICE) {
                /* A slice now, the rest back on the stack: the stack stays shallow. */
                st[top].lo = elo + MW__GC_SCAN_SLICE;
                top++;
                ehi = elo + MW__GC_SCAN_SLICE;
            }
            __builtin_prefetch((const void *)elo);
            ring_lo[i] = elo;
            ring_hi[i] = ehi;
            rn++;
        }
        if (!rn)
            break;
        p = ring_lo[rh];
        end = ring_hi[rh];
        rh = (rh + 1) & (RING - 1);
        rn--;
        for (; p < end; p += sizeof(uintptr_t)) {
            uintptr_t v = *(const uintptr_t *)p, e, base, start;
            struct mw__gc_normal *n;
            const struct mw__gc_pd *pd;
            uint64_t *w, m;
            unsigned slot;

            if (v - lo >= span)
                continue;
            e = mw__gc_entry(v);
            if (!e)
                continue;
            if (MW__GC_UNLIKELY(e & MW__GC_ENTRY_HUGE)) {
                struct mw__gc_chunk *c = (struct mw__gc_chunk *)(e & ~(MW__GC_CHUNK - 1));
                if (!mark_huge(e, v, &marked))
                    continue;
                start = c->obj;
                base = c->obj + c->obj_size;
                goto push;
            }
            n = (struct mw__gc_normal *)e;
            pd = &n->pd[mw__gc_page_of(v)];
            if (pd->kind < MW__GC_SMALL)
                continue;
            base = mw__gc_block_addr(n, pd->head);
            slot = (unsigned)(((uint64_t)(v - base) * pd->recip) >> 32);
            if (slot >= pd->nslots)
                continue;
            w = &n->bits[pd->head][slot >> 6];
            m = (uint64_t)1 << (slot & 63);
            if (!(w[0] & m) || (w[4] & m))
                continue;
            w[4] |= m;
            marked += pd->size;
            if (pd->flags & MW__GC_ATOMIC)
                continue;
            start = base + (uintptr_t)slot * pd->size;
            base = start + pd->size;
        push:
            if (MW__GC_UNLIKELY(top == cap)) {
                s->len = top;
                if (stack_grow() < 0)
                    continue;
                st = s->data;
                cap = s->cap;
            }
            st[top].lo = start;
            st[top].hi = base;
            top++;
        }
    }
    s->len = 0;
    mw__gc.marked_bytes += marked;
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
                uint64_t *w;
                if (!cu->block)
                    continue;
                n = mw__gc_chunk_of(cu->block);
                w = n->bits[mw__gc_page_of(cu->block)];
                for (i = 0; i < 4; i++)
                    w[4 + i] |= cu->rest[i];
                if (cu->bits)
                    w[4 + (cu->base - cu->block) / (64 * cu->size)] |= cu->bits;
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
    uintptr_t hi = sc->self->stack_hi;

    if (sc->self->entry_sp)
        sp = sc->self->entry_sp;

    if (sp >= sc->self->stack_lo && sp < hi) {
        mw__gc_mark_range(sp, hi);
    } else {
        /* On a stack of its own (a coroutine, sigaltstack): its extent is unknown. */
        static const char msg[] = "stack pointer outside the thread's stack: stack not scanned";
        mw__gc_warn("%s", msg);
    }
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
        if (t->stop_sp >= t->stack_lo && t->stop_sp < t->stack_hi)
            mw__gc_mark_range(t->stop_sp, t->stack_hi);
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
                    if (!(n->bits[p][4 + (s >> 6)] & ((uint64_t)1 << (s & 63))))
                        continue;
                    push(base + (uintptr_t)s * pd->size, base + (uintptr_t)(s + 1) * pd->size);
                    mw__gc_mark_drain();
                }
            }
        }
    }
}
