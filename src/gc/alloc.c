/* Allocation: the lock-free fast path, block cursors, large and huge objects, explicit free,
 * realloc and friends. */
#include "gc/gc_internal.h"

#include <errno.h>
#include <string.h>

static const uint16_t class_sizes[MW__GC_NCLASSES] = {
    16,  32,  48,  64,  80,  96,   112,  128,  160,  192,  224,  256,  320,  384,
    448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096,
};

void mw__gc_init_classes(void)
{
    unsigned c, g, k;

    /* Every class fills a 16 KiB block wasting at most an eighth of it (3584 B: 4 slots and
     * 2 KiB over); a block per cursor fill amortizes the fill over many objects. */
    for (c = 0; c < MW__GC_NCLASSES; c++) {
        unsigned s = class_sizes[c];
        k = MW__GC_BLOCK_PAGES;
        mw__gc.class_size[c] = s;
        mw__gc.class_pages[c] = (uint8_t)k;
        mw__gc.class_slots[c] = (uint16_t)MW__GC_MIN(k * MW__GC_PAGE / s, MW__GC_MAX_SLOTS);
    }
    for (g = 0, c = 0; g <= MW__GC_SMALL_MAX / MW__GC_GRANULE; g++) {
        while (class_sizes[c] < g * MW__GC_GRANULE)
            c++;
        mw__gc.class_of[g] = (uint8_t)c;
    }
}

/* Added to the kind (0 scanned, 1 atomic) given to mw__gc_alloc_slow: only pointers into the
 * object's first page keep it alive (large objects; small ones are a page at most). */
#define OFF_PAGE 2

/* ---- the fast path ------------------------------------------------------------------------- */

/* Hands out the lowest free slot of the cursor's current word b (nonzero). The address exists
 * before the slot leaves the cursor: a thread stopped in between has it either in the cursor
 * (reserved) or in a register (a root). */
static inline __attribute__((always_inline)) void *cursor_take(struct mw__gc_cursor *c, uint64_t b)
{
    uintptr_t p = c->base + (uintptr_t)(unsigned)__builtin_ctzll(b) * c->size;

    mw__assert(b != 0 && c->size != 0);
    __asm__ volatile("" : : "r"(p) : "memory");
    c->bits = b & (b - 1);
    MW__GC_ACCESSIBLE(p, c->size);
    return (void *)p;
}

static inline void *cursor_pop(struct mw__gc_cursor *c)
{
    uint64_t b = c->bits;

    return b ? cursor_take(c, b) : NULL;
}

/* The fast path: a TLS load, a table load, the cursor word, one multiplication; nothing but the
 * empty-cursor test branches. (fast_limit is MW__GC_SMALL_MAX + 1, or 0 to send every call to the
 * slow path.) */
#define FAST_PATH(n, kind)                                                        \
    do {                                                                          \
        struct mw__gc_thread *t_ = mw__gc_self;                                   \
        if (MW__GC_LIKELY(t_ != NULL && (n) < mw__gc.fast_limit)) {               \
            struct mw__gc_cursor *c_ =                                            \
                &t_->cur[kind][mw__gc.class_of[((n) + MW__GC_GRANULE - 1) >> 4]]; \
            uint64_t b_ = c_->bits;                                               \
            if (MW__GC_LIKELY(b_ != 0))                                           \
                return cursor_take(c_, b_);                                       \
        }                                                                         \
    } while (0)

void *mw_gc_malloc(size_t n)
{
    FAST_PATH(n, 0);
    return mw__gc_alloc_slow(n, 0);
}

void *mw_gc_malloc_atomic(size_t n)
{
    FAST_PATH(n, 1);
    return mw__gc_alloc_slow(n, 1);
}

void *mw_gc_malloc_ignore_off_page(size_t n)
{
    return mw__gc_alloc_slow(n, OFF_PAGE);
}

void *mw_gc_malloc_atomic_ignore_off_page(size_t n)
{
    return mw__gc_alloc_slow(n, 1 | OFF_PAGE);
}

/* ---- blocks and cursors --------------------------------------------------------------------- */

void mw__gc_sweep_block(struct mw__gc_normal *n, unsigned head)
{
    struct mw__gc_pd *pd = &n->pd[head];
    unsigned i, dead = 0;

    for (i = 0; i < 4u * pd->npages; i++) {
        uint64_t *w = mw__gc_group(n, head, i);
        uint64_t d = w[0] & ~w[4];
        if (d && mw__gc.opt.poison) {
            uint64_t x = d;
            while (x) {
                unsigned s = i * 64 + (unsigned)__builtin_ctzll(x);
                memset((void *)(mw__gc_block_addr(n, head) + (uintptr_t)s * pd->size), 0xa5,
                       pd->size);
                x &= x - 1;
            }
        }
        dead += (unsigned)mw__gc_popcount(d);
#if defined(MW_GC_ASAN) || defined(MW_GC_VALGRIND)
        for (uint64_t x = d; x; x &= x - 1)
            MW__GC_NOACCESS(mw__gc_block_addr(n, head) +
                                (uintptr_t)(i * 64 + (unsigned)__builtin_ctzll(x)) * pd->size,
                            pd->size);
#endif
        w[0] = w[4];
        w[4] = 0;
    }
    mw__gc.stats.freed_bytes += (uint64_t)dead * pd->size;
    pd->flags &= (uint8_t)~MW__GC_UNSWEPT;
}

static void valid_mask(unsigned nslots, uint64_t out[MW__GC_GROUPS])
{
    unsigned i;

    for (i = 0; i < MW__GC_GROUPS; i++) {
        if (nslots >= (i + 1) * 64)
            out[i] = ~(uint64_t)0;
        else if (nslots > i * 64)
            out[i] = ((uint64_t)1 << (nslots - i * 64)) - 1;
        else
            out[i] = 0;
    }
}

/* Clears the free slots of a block: one memset for each gap between the slots still in use
 * (a block with no survivor is one memset, a block with a few survivors a few). */
static void zero_free(uintptr_t base, uintptr_t size, unsigned nslots,
                      const uint64_t free[MW__GC_GROUPS], const uint64_t valid[MW__GC_GROUPS])
{
    unsigned g, from = 0;

    for (g = 0; g < MW__GC_GROUPS; g++) {
        uint64_t used = valid[g] & ~free[g];
        while (used) {
            unsigned s = g * 64 + (unsigned)__builtin_ctzll(used);
            if (s > from) {
                MW__GC_ACCESSIBLE(base + (uintptr_t)from * size, (size_t)(s - from) * size);
                memset((void *)(base + (uintptr_t)from * size), 0, (size_t)(s - from) * size);
                MW__GC_NOACCESS(base + (uintptr_t)from * size, (size_t)(s - from) * size);
            }
            from = s + 1;
            used &= used - 1;
        }
    }
    if (nslots > from) {
        MW__GC_ACCESSIBLE(base + (uintptr_t)from * size, (size_t)(nslots - from) * size);
        memset((void *)(base + (uintptr_t)from * size), 0, (size_t)(nslots - from) * size);
        MW__GC_NOACCESS(base + (uintptr_t)from * size, (size_t)(nslots - from) * size);
    }
}

void mw__gc_sweep_push(int kind, unsigned cls, uintptr_t block)
{
    struct mw__gc_vec *v = &mw__gc.sweep[kind][cls];

    /* Losing a block here only delays the reuse of its free slots to the next collection. */
    if (mw__gc_vec_reserve(v, sizeof(uintptr_t), v->len + 1) == 0) {
        MW__GC_VEC_AT(v, uintptr_t, v->len++) = block;
        mw__gc_chunk_of(block)->pd[mw__gc_page_of(block)].flags |= MW__GC_LISTED;
    }
}

/* Bytes of the slots a cursor holds without having handed them out. */
static uint64_t cursor_reserved(const struct mw__gc_cursor *c)
{
    unsigned i, k = 0;

    if (!c->block)
        return 0;
    for (i = 0; i < MW__GC_GROUPS; i++)
        k += (unsigned)mw__gc_popcount(c->rest[i]);
    k += (unsigned)mw__gc_popcount(c->bits);
    return (uint64_t)k * c->size;
}

uint64_t mw__gc_reserved_bytes(void)
{
    struct mw__gc_thread *t;
    uint64_t sum = 0;
    unsigned k, c;

    for (t = mw__gc.threads; t; t = t->next)
        for (k = 0; k < MW__GC_KINDS; k++)
            for (c = 0; c < MW__GC_NCLASSES; c++)
                sum += cursor_reserved(&t->cur[k][c]);
    return sum;
}

void mw__gc_cursor_release(struct mw__gc_cursor *c, int unclaim)
{
    struct mw__gc_normal *n;
    struct mw__gc_pd *pd;
    unsigned h, i;
    uint64_t any = 0;
    int kind;

    if (!c->block)
        return;
    n = mw__gc_chunk_of(c->block);
    h = mw__gc_page_of(c->block);
    pd = &n->pd[h];
    kind = pd->flags & MW__GC_ATOMIC ? 1 : 0;
    if (unclaim) {
        uint64_t bytes = cursor_reserved(c);
        if (c->bits)
            *mw__gc_group(n, h, (unsigned)((c->base - c->block) / (64 * c->size))) &= ~c->bits;
        for (i = 0; i < MW__GC_GROUPS; i++)
            *mw__gc_group(n, h, i) &= ~c->rest[i];
        mw__gc.stats.allocated_bytes -= bytes;
        mw__gc.since_gc = mw__gc.since_gc > bytes ? mw__gc.since_gc - bytes : 0;
        mw__gc.claimed = mw__gc.claimed > bytes ? mw__gc.claimed - bytes : 0;
    }
    pd->flags &= (uint8_t)~MW__GC_OWNED;
    if ((pd->flags & MW__GC_SEEN) || unclaim) {
        /* Slots may have been freed while the cursor held the block: make them reusable. */
        pd->flags &= (uint8_t)~MW__GC_SEEN;
        for (i = 0; i < MW__GC_GROUPS; i++)
            any |= *mw__gc_group(n, h, i);
        if (!any)
            mw__gc_pages_free(n, h, pd->npages);
        else
            mw__gc_sweep_push(kind, mw__gc.class_of[pd->size / MW__GC_GRANULE], c->block);
    }
    c->block = 0;
    c->bits = 0;
    c->base = 0;
    memset(c->rest, 0, sizeof c->rest);
}

/* Gives every page of the block at page h its descriptor. */
static void block_describe(struct mw__gc_normal *n, unsigned h, unsigned npages, uint32_t size,
                           uint32_t recip, unsigned nslots, int large, int atomic)
{
    unsigned p;

    for (p = h; p < h + npages; p++) {
        struct mw__gc_pd *pd = &n->pd[p];
        pd->size = size;
        pd->recip = recip;
        pd->head = (uint16_t)h;
        pd->nslots = (uint16_t)nslots;
        pd->npages = (uint16_t)npages;
        pd->kind = large ? MW__GC_LARGE : MW__GC_SMALL;
        pd->flags = atomic ? MW__GC_ATOMIC : 0;
    }
}

static uintptr_t block_new(int kind, unsigned cls, int *zeroed)
{
    unsigned npages = mw__gc.class_pages[cls], h;
    uint32_t size = mw__gc.class_size[cls];
    struct mw__gc_normal *n;
    /* A stale pointer into a block of scanned objects keeps the object it hits and all that
     * reaches; into atomic ones, one small object: only the first avoid black-listed pages. */
    uintptr_t addr = mw__gc_pages_alloc(npages, kind == 0 ? npages : 0, zeroed);

    if (!addr)
        return 0;
    n = mw__gc_chunk_of(addr);
    h = mw__gc_page_of(addr);
    block_describe(n, h, npages, size, (uint32_t)((((uint64_t)1 << 32) + size - 1) / size),
                   mw__gc.class_slots[cls], 0, kind);
    memset(n->bits[h], 0, npages * sizeof n->bits[h]);
    MW__GC_NOACCESS(addr + (uintptr_t)mw__gc.class_slots[cls] * size,
                    ((uintptr_t)npages << MW__GC_PAGE_SHIFT) -
                        (uintptr_t)mw__gc.class_slots[cls] * size);
    return addr;
}

/* Gives the cursor a block with free slots: a swept one, one to sweep, or a new one. Called with
 * the lock held and the cursor empty. Returns 0 or -ENOMEM. */
static int cursor_fill(struct mw__gc_thread *t, int kind, unsigned cls)
{
    struct mw__gc_cursor *c = &t->cur[kind][cls];
    struct mw__gc_vec *v = &mw__gc.sweep[kind][cls];
    uint64_t valid[MW__GC_GROUPS], free[MW__GC_GROUPS], bytes;
    uintptr_t addr = 0;
    int zeroed = 0, i;
    unsigned k = 0;
    struct mw__gc_normal *n;
    unsigned h;

    mw__gc_cursor_release(c, 0);
    valid_mask(mw__gc.class_slots[cls], valid);
    while (v->len) {
        addr = MW__GC_VEC_AT(v, uintptr_t, --v->len);
        if (v->len) {
            /* The next fill will want the next block's descriptor and bitmaps: cold since
             * the collection, they would cost two misses then. */
            uintptr_t next = MW__GC_VEC_AT(v, uintptr_t, v->len - 1);
            __builtin_prefetch(&mw__gc_chunk_of(next)->pd[mw__gc_page_of(next)], 1);
            __builtin_prefetch(mw__gc_chunk_of(next)->bits[mw__gc_page_of(next)], 1);
        }
        n = mw__gc_chunk_of(addr);
        h = mw__gc_page_of(addr);
        /* An explicit free may have emptied and freed a listed block since (its pages may even
         * hold another block now): take only a block this list still owns. */
        if (n->pd[h].kind != MW__GC_SMALL || n->pd[h].head != h ||
            !(n->pd[h].flags & MW__GC_LISTED) || (n->pd[h].flags & MW__GC_ATOMIC ? 1 : 0) != kind ||
            n->pd[h].size != mw__gc.class_size[cls]) {
            addr = 0;
            continue;
        }
        n->pd[h].flags &= (uint8_t)~MW__GC_LISTED;
        if (n->pd[h].flags & MW__GC_UNSWEPT)
            mw__gc_sweep_block(n, h);
        for (i = 0, k = 0; i < MW__GC_GROUPS; i++) {
            free[i] = valid[i] & ~*mw__gc_group(n, h, (unsigned)i);
            k += (unsigned)mw__gc_popcount(free[i]);
        }
        if (k)
            break;
        addr = 0; /* full: the next collection lists it again if it is still in use */
    }
    if (!addr) {
        addr = block_new(kind, cls, &zeroed);
        if (!addr)
            return -ENOMEM;
        memcpy(free, valid, sizeof free);
        k = mw__gc.class_slots[cls];
    }
    n = mw__gc_chunk_of(addr);
    h = mw__gc_page_of(addr);
    if (kind == 0 && !zeroed)
        zero_free(addr, mw__gc.class_size[cls], mw__gc.class_slots[cls], free, valid);
#if defined(MW_GC_ASAN) || defined(MW_GC_VALGRIND)
    else
        for (i = 0; i < MW__GC_GROUPS; i++)
            for (uint64_t x = free[i]; x; x &= x - 1)
                MW__GC_NOACCESS(addr + (uintptr_t)(i * 64 + __builtin_ctzll(x)) *
                                           mw__gc.class_size[cls],
                                mw__gc.class_size[cls]);
#endif
    for (i = 0; i < MW__GC_GROUPS; i++)
        *mw__gc_group(n, h, (unsigned)i) |= free[i];
    n->pd[h].flags |= MW__GC_OWNED;
    bytes = (uint64_t)k * mw__gc.class_size[cls];
    mw__gc.since_gc += bytes;
    mw__gc.claimed += bytes;
    mw__gc.stats.allocated_bytes += bytes;

    c->block = addr;
    c->size = mw__gc.class_size[cls];
    for (i = 0; i < MW__GC_GROUPS - 1 && !free[i]; i++) /* k > 0: some word has a free slot */
        ;
    c->base = addr + (uintptr_t)i * 64 * c->size;
    c->bits = free[i];
    for (int j = 0; j < MW__GC_GROUPS; j++)
        c->rest[j] = j == i ? 0 : free[j];
    return 0;
}

/* Moves the cursor to its block's next group of free slots; 0 when the block is used up. */
static int cursor_next_group(struct mw__gc_cursor *c)
{
    unsigned i;

    if (!c->block)
        return 0;
    for (i = 0; i < MW__GC_GROUPS; i++) {
        if (c->rest[i]) {
            /* Order matters to a collection that stops this thread in between: every free slot
             * must be in bits (read with base) or in rest at each step. */
            c->base = c->block + (uintptr_t)i * 64 * c->size;
            __asm__ volatile("" : : : "memory");
            c->bits = c->rest[i];
            __asm__ volatile("" : : : "memory");
            c->rest[i] = 0;
            return 1;
        }
    }
    return 0;
}

static void *oom(size_t n)
{
    mw_gc_oom_fn fn = mw__gc.oom;

    if (fn)
        return fn(n);
    errno = ENOMEM;
    return NULL;
}

static void *alloc_small(struct mw__gc_thread *t, size_t n, int kind)
{
    unsigned cls = mw__gc.class_of[(n + MW__GC_GRANULE - 1) >> 4];
    struct mw__gc_cursor *c = &t->cur[kind][cls];
    void *p;
    int r;

    for (;;) {
        p = cursor_pop(c);
        if (p)
            return p;
        if (cursor_next_group(c))
            continue;
        mw__gc_collect_if_due();
        mw__gc_lock();
        r = cursor_fill(t, kind, cls);
        mw__gc_unlock();
        if (r < 0) {
            mw__gc_collect_entry("out of memory", 1);
            mw__gc_lock();
            r = cursor_fill(t, kind, cls);
            mw__gc_unlock();
            if (r < 0)
                return NULL;
        }
    }
}

static uintptr_t large_try(size_t n, int how)
{
    unsigned npages = (unsigned)((n + MW__GC_PAGE - 1) >> MW__GC_PAGE_SHIFT), h;
    int kind = how & 1, off_page = !!(how & OFF_PAGE), zeroed;
    struct mw__gc_normal *ch;
    uintptr_t addr;

    if (n > MW__GC_LARGE_MAX) {
        addr = mw__gc_huge_map(n, kind, off_page);
        if (addr) {
            struct mw__gc_chunk *c = (struct mw__gc_chunk *)(addr - MW__GC_PAGE);
            mw__gc.since_gc += c->obj_size;
            mw__gc.claimed += c->obj_size;
            mw__gc.stats.allocated_bytes += c->obj_size;
        }
        return addr;
    }
    /* A stale pointer anywhere in the object would keep it: all its pages must be clean, or,
     * when only its first page counts, that one. */
    addr = mw__gc_pages_alloc(npages, off_page ? 1 : npages, &zeroed);
    if (!addr)
        return 0;
    ch = mw__gc_chunk_of(addr);
    h = mw__gc_page_of(addr);
    block_describe(ch, h, npages, npages << MW__GC_PAGE_SHIFT, 0, 1, 1, kind);
    if (off_page) {
        /* Candidates into the other pages find no slot there. */
        for (unsigned p = h + 1; p < h + npages; p++)
            ch->pd[p].nslots = 0;
        ch->pd[h].flags |= MW__GC_OFF_PAGE_LARGE;
    }
    memset(ch->bits[h], 0, sizeof ch->bits[h]);
    if (kind == 0 && !zeroed)
        memset((void *)addr, 0, (size_t)npages << MW__GC_PAGE_SHIFT);
    ch->bits[h][0] = 1;
    mw__gc.since_gc += (uint64_t)npages << MW__GC_PAGE_SHIFT;
    mw__gc.claimed += (uint64_t)npages << MW__GC_PAGE_SHIFT;
    mw__gc.stats.allocated_bytes += (uint64_t)npages << MW__GC_PAGE_SHIFT;
    return addr;
}

static void *alloc_large(size_t n, int how)
{
    uintptr_t p;

    if (mw__gc.opt.ignore_off_page && n >= mw__gc.opt.ignore_off_page)
        how |= OFF_PAGE;
    mw__gc_collect_if_due();
    mw__gc_lock();
    p = large_try(n, how);
    mw__gc_unlock();
    if (!p) {
        mw__gc_collect_entry("out of memory", 1);
        mw__gc_lock();
        p = large_try(n, how);
        mw__gc_unlock();
    }
    return (void *)p;
}

void *mw__gc_alloc_slow(size_t n, int kind)
{
    struct mw__gc_thread *t = mw__gc_me();
    void *p;

    if (MW__GC_UNLIKELY(mw__gc.opt.collect_every))
        mw__gc_every_tick();
    if (n <= MW__GC_SMALL_MAX)
        p = alloc_small(t, n, kind & 1);
    else
        p = alloc_large(n, kind);
    if (MW__GC_UNLIKELY(!p))
        return oom(n);
    /* A collection this call triggered may have found finalizers to run: run them now, with
     * p held in this frame. */
    if (MW__GC_UNLIKELY(mw__gc.fin_queue.len > mw__gc.fin_queue_head))
        mw__gc_run_finalizers();
    __asm__ volatile("" : : "r"(p) : "memory");
    return p;
}

/* ---- finding objects ----------------------------------------------------------------------- */

int mw__gc_find(uintptr_t v, struct mw__gc_ref *r)
{
    uintptr_t e, base;
    struct mw__gc_normal *n;
    struct mw__gc_pd *pd;
    unsigned slot;

    if (v - mw__gc.heap_lo >= mw__gc.heap_hi - mw__gc.heap_lo)
        return 0;
    e = mw__gc_entry(v);
    if (!e)
        return 0;
    if (e & MW__GC_ENTRY_HUGE) {
        struct mw__gc_chunk *c = (struct mw__gc_chunk *)(e & ~(MW__GC_CHUNK - 1));
        if (!(c->bits[0] & 1) || v < c->obj || v - c->obj >= c->obj_size)
            return 0;
        r->start = c->obj;
        r->size = c->obj_size;
        r->alloc = c->bits;
        r->mask = 1;
        r->chunk = c;
        r->pd = NULL;
        r->slot = 0;
        r->atomic = !!(c->flags & MW__GC_ATOMIC);
        return 1;
    }
    n = (struct mw__gc_normal *)e;
    pd = &n->pd[mw__gc_page_of(v)];
    if (pd->kind < MW__GC_SMALL)
        return 0;
    base = mw__gc_block_addr(n, pd->head);
    slot = (unsigned)(((uint64_t)(v - base) * pd->recip) >> 32);
    if (slot >= pd->nslots)
        return 0;
    if (!(*mw__gc_group(n, pd->head, slot >> 6) & ((uint64_t)1 << (slot & 63))))
        return 0;
    r->start = base + (uintptr_t)slot * pd->size;
    r->size = pd->size;
    r->alloc = mw__gc_group(n, pd->head, slot >> 6);
    r->mask = (uint64_t)1 << (slot & 63);
    r->chunk = &n->c;
    r->pd = &n->pd[pd->head];
    r->slot = slot;
    r->atomic = !!(pd->flags & MW__GC_ATOMIC);
    return 1;
}

/* Whether slot r is still held by some cursor (claimed, never handed out). */
static int held_by_cursor(const struct mw__gc_ref *r)
{
    struct mw__gc_thread *t;
    uintptr_t block;
    unsigned g, cls;

    if (!r->pd || !(r->pd->flags & MW__GC_OWNED))
        return 0;
    /* Only a cursor of the block's kind and class can hold it. */
    block = r->start - (uintptr_t)r->slot * r->size;
    g = r->slot >> 6;
    cls = mw__gc.class_of[r->size / MW__GC_GRANULE];
    for (t = mw__gc.threads; t; t = t->next) {
        const struct mw__gc_cursor *cu = &t->cur[r->atomic][cls];
        if (cu->block != block)
            continue;
        if (cu->rest[g] & r->mask)
            return 1;
        if (cu->bits && (cu->base - cu->block) / (64 * cu->size) == g && (cu->bits & r->mask))
            return 1;
    }
    return 0;
}

/* ---- the rest of the API ------------------------------------------------------------------- */

/* Lowers the allocation count by an explicit free, but never under an eighth of what was claimed
 * since the last collection: a program that frees most of what it allocates still gets
 * collections for the rest (what it forgets to free, and fragmentation). */
static void uncount(uint64_t size)
{
    uint64_t floor = mw__gc.claimed / 8, s = mw__gc.since_gc;

    if (s > floor)
        mw__gc.since_gc = s - floor > size ? s - size : floor;
}

/* Gives freed slot r back to the calling thread's cursor when the cursor allocates from r's
 * block: the thread's next allocations of that size take it first. Returns 1 when done. Lock
 * held: no collection can look at the cursor meanwhile. */
static int free_to_cursor(const struct mw__gc_ref *r, int kind, unsigned cls)
{
    struct mw__gc_cursor *c = &mw__gc_self->cur[kind][cls];
    uintptr_t block = r->start - (uintptr_t)r->slot * r->size;
    unsigned g = r->slot >> 6, cg;
    uint64_t cur;

    if (c->block != block || mw__gc.opt.poison)
        return 0;
    /* held_by_cursor ruled this out: a slot the cursor still holds was never handed out */
    mw__assert(!(c->rest[g] & r->mask) && r->start == block + (uintptr_t)r->slot * r->size);
    if (!kind)
        memset((void *)r->start, 0, r->size); /* the fast path hands slots out as they are */
    MW__GC_NOACCESS(r->start, r->size);
    /* The slot's group becomes the current one (the current one's slots go back to rest). */
    cg = (unsigned)((c->base - c->block) / (64 * c->size));
    cur = c->bits;
    if (cur && cg != g) {
        c->rest[cg] |= cur;
        cur = 0;
    }
    c->base = block + (uintptr_t)g * 64 * c->size;
    c->bits = cur | c->rest[g] | r->mask;
    c->rest[g] = 0;
    /* Claimed again (its alloc bit stays set): counted as allocated when handed out again. */
    mw__gc.stats.allocated_bytes += r->size;
    return 1;
}

/* A slot of the block at page head was freed (its bits cleared): makes the slot reusable by the
 * next cursor fill of its class, or frees the block when it is empty. */
static void free_slot_relist(struct mw__gc_normal *n, unsigned head, int kind, unsigned cls)
{
    struct mw__gc_pd *pd = &n->pd[head];
    uint64_t any = 0;
    unsigned i;

    if (pd->flags & MW__GC_OWNED) {
        pd->flags |= MW__GC_SEEN; /* the cursor lists it when it moves on */
        return;
    }
    if (pd->flags & MW__GC_UNSWEPT)
        mw__gc_sweep_block(n, head);
    for (i = 0; i < MW__GC_GROUPS; i++)
        any |= *mw__gc_group(n, head, i);
    if (!any)
        mw__gc_pages_free(n, head, pd->npages); /* a sweep list may still name it: see fill */
    else if (!(pd->flags & MW__GC_LISTED))
        mw__gc_sweep_push(kind, cls, mw__gc_block_addr(n, head));
}

int mw__gc_find_live(uintptr_t v, struct mw__gc_ref *r)
{
    return mw__gc_find(v, r) && !held_by_cursor(r);
}

/* Finds the live object p starts, or reports the misuse (what names the call) and aborts. Lock
 * held. */
static void find_start(void *p, const char *what, struct mw__gc_ref *r)
{
    if (!mw__gc_find_live((uintptr_t)p, r) || r->start != (uintptr_t)p)
        mw__gc_fatal("%s(%p): not the start of a live collected object (freed twice, or never "
                     "returned by the collector)",
                     what, p);
}

/* Frees object r (mw_gc_free's work). Lock held. */
static void free_locked(struct mw__gc_ref *r)
{
    if (mw__gc_queue_holds(r->start, r->start + r->size))
        mw__gc_fatal("mw_gc_free(%p): the object's finalizer is about to run", (void *)r->start);
    mw__gc_finalize_forget(r->start);
    mw__gc_uncollectable_forget(r->start);
    mw__gc.stats.freed_bytes += r->size;
    if (!r->pd) {
        uncount(r->size);
        r->chunk->bits[0] = 0;
        mw__gc_huge_free(r->chunk);
    } else if (r->pd->kind == MW__GC_LARGE) {
        struct mw__gc_normal *n = (struct mw__gc_normal *)r->chunk;
        uncount(r->size);
        memset(n->bits[r->pd->head], 0, sizeof n->bits[0]);
        mw__gc_pages_free(n, r->pd->head, r->pd->npages);
    } else {
        struct mw__gc_normal *n = (struct mw__gc_normal *)r->chunk;
        unsigned cls = mw__gc.class_of[r->size / MW__GC_GRANULE];
        /* Back in the cursor, the slot is reused without claiming anything new: the
         * allocation count stays as it is. */
        if (!free_to_cursor(r, r->atomic, cls)) {
            uncount(r->size);
            r->alloc[0] &= ~r->mask;
            r->alloc[4] &= ~r->mask;
            if (mw__gc.opt.poison)
                memset((void *)r->start, 0xa5, r->size);
            MW__GC_NOACCESS(r->start, r->size);
            free_slot_relist(n, r->pd->head, r->atomic, cls);
        }
    }
}

void mw_gc_free(void *p)
{
    struct mw__gc_ref r;

    if (!p)
        return;
    mw__gc_me();
    mw__gc_lock();
    find_start(p, "mw_gc_free", &r);
    free_locked(&r);
    mw__gc_unlock();
}

void *mw_gc_calloc(size_t nmemb, size_t size)
{
    size_t n;

    if (__builtin_mul_overflow(nmemb, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return mw_gc_malloc(n);
}

char *mw_gc_strdup(const char *s)
{
    size_t n;
    char *d;

    if (!s) {
        errno = EINVAL;
        return NULL;
    }
    n = strlen(s) + 1;
    d = mw_gc_malloc_atomic(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void *mw_gc_realloc(void *p, size_t n)
{
    struct mw__gc_ref r;
    void *q;
    int uncollectable;

    if (!p)
        return mw_gc_malloc(n);
    if (n == 0) {
        mw_gc_free(p);
        return NULL;
    }
    mw__gc_me();
    mw__gc_lock();
    find_start(p, "mw_gc_realloc", &r);
    uncollectable = mw__gc_uncollectable_has(r.start);
    mw__gc_unlock();
    if (n <= r.size && (n > r.size / 2 || r.size <= MW__GC_GRANULE)) {
        /* Fits: keep it, and clear what was cut off so growing again reads zeros. */
        if (!r.atomic)
            memset((char *)p + n, 0, r.size - n);
        return p;
    }
    if (uncollectable)
        q = r.atomic ? mw_gc_malloc_atomic_uncollectable(n) : mw_gc_malloc_uncollectable(n);
    else if (!r.pd ? (r.chunk->flags & MW__GC_OFF_PAGE) : (r.pd->flags & MW__GC_OFF_PAGE_LARGE))
        q = mw__gc_alloc_slow(n, r.atomic | OFF_PAGE);
    else
        q = r.atomic ? mw_gc_malloc_atomic(n) : mw_gc_malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, n < r.size ? n : r.size);
    /* p stayed reachable from this frame through any collection the allocation ran: r still
     * describes it. An object with a finalizer is left to the collector. */
    mw__gc_lock();
    if (!mw__gc_finalize_has((uintptr_t)p))
        free_locked(&r);
    mw__gc_unlock();
    return q;
}

mw_gc_oom_fn mw_gc_set_oom_handler(mw_gc_oom_fn fn)
{
    mw_gc_oom_fn old;

    mw__gc_me();
    mw__gc_lock();
    old = mw__gc.oom;
    mw__gc.oom = fn;
    mw__gc_unlock();
    return old;
}
