/* Marking, as memcheck does it. A block reached through a pointer to its start from a root, or
 * from a block that is itself still reachable, is still reachable; reached otherwise (through an
 * interior pointer, or from a possibly lost block) it is possibly lost, unless one of memcheck's
 * interior-pointer heuristics recognises the pointer. Then, taking the unreached blocks in
 * allocation order, each one still unreached becomes a definitely lost "clique leader" and
 * everything unreached that it reaches is indirectly lost, its bytes credited to the leader. */
#include "leak/check.h"

#include <string.h>

struct mw__cb *mw__B;
size_t mw__N;
uintptr_t mw__lo_addr, mw__hi_addr;

static uint32_t *stack;
static size_t top, stack_cap;
static uint64_t scanned;

void mw__mark_init(uint32_t *s, size_t cap)
{
    stack = s;
    stack_cap = cap;
    top = 0;
    scanned = 0;
}

uint64_t mw__mark_scanned(void)
{
    return scanned;
}

/* ---- finding the block a candidate word points into ------------------------------------------
 * A binary search over every block costs about log2(N) dependent cache misses for each word that
 * falls between the lowest and highest block (perl at exit: 190,000 blocks, 18 probes, a third
 * of the exit check). Instead the blocks' address range is cut into segments at gaps of more
 * than SEG_GAP, and each segment into granules of 2^shift bytes; for each granule the index
 * holds the number of blocks starting below it. A word then costs a search in the short segment
 * table, one load in the index and a look at the few blocks that start in its granule, in a
 * compact array of start addresses. The granule is the smallest power of two (64 bytes or more)
 * that keeps the index within about 4 entries a block, whatever the layout. */
#define SEG_GAP     (1u << 20)
#define GRAIN_MIN   6
#define LINEAR_SPAN 8

struct seg {
    uintptr_t lo, hi; /* first block's start, highest block end */
    size_t base;      /* its first granule's entry in grain[] */
};
static struct seg *segs;
static size_t nsegs;
static uint32_t *grain;
static uintptr_t *starts;
static unsigned shift;

static size_t grains_of(uintptr_t lo, uintptr_t hi, unsigned s)
{
    return ((hi - 1) >> s) - (lo >> s) + 1;
}

int mw__mark_index(void)
{
    size_t i, n = mw__N, k, budget = 4 * n + 4096, total = 0;
    uintptr_t lo = 0, hi = 0;
    unsigned s;

    segs = NULL;
    grain = NULL;
    starts = NULL;
    nsegs = 0;
    /* The bounds of any word that may hit a block (0-byte blocks hold their address). */
    mw__lo_addr = n ? mw__B[0].addr : 1;
    mw__hi_addr = 0;
    for (i = 0; i < n; i++) {
        uintptr_t end = mw__B[i].addr + (mw__B[i].size ? mw__B[i].size : 1);
        mw__hi_addr = end > mw__hi_addr ? end : mw__hi_addr;
    }
    if (!n)
        return 0;
    starts = mw__leak_map(n * sizeof *starts);
    segs = mw__leak_map(n * sizeof *segs);
    if (!starts || !segs) {
        segs = NULL;
        starts = NULL;
        return -1;
    }
    for (i = 0; i < n; i++) {
        uintptr_t a = mw__B[i].addr, end = a + (mw__B[i].size ? mw__B[i].size : 1);
        starts[i] = a;
        if (i == 0 || a > hi + SEG_GAP) {
            if (i)
                segs[nsegs++] = (struct seg){lo, hi, 0};
            lo = a;
            hi = end;
        } else if (end > hi) {
            hi = end;
        }
    }
    segs[nsegs++] = (struct seg){lo, hi, 0};
    for (s = GRAIN_MIN; s < 8 * sizeof(uintptr_t) - 1; s++) {
        total = 0;
        for (i = 0; i < nsegs && total <= budget; i++)
            total += grains_of(segs[i].lo, segs[i].hi, s) + 1;
        if (total <= budget)
            break;
    }
    grain = mw__leak_map(total * sizeof *grain);
    if (!grain) {
        segs = NULL;
        return -1;
    }
    shift = s;
    total = 0;
    k = 0;
    for (i = 0; i < nsegs; i++) {
        size_t g, ng = grains_of(segs[i].lo, segs[i].hi, s);
        uintptr_t first = segs[i].lo >> s;
        segs[i].base = total;
        for (g = 0; g <= ng; g++) {
            uintptr_t at = (first + g) << s;
            while (k < n && starts[k] < at)
                k++;
            grain[total + g] = (uint32_t)k;
        }
        total += ng + 1;
    }
    return 0;
}

/* The last of n records (stride bytes each, sorted by the address that starts each) whose
 * address is at most v; 0 when none is. */
static inline size_t last_at_most(const void *base, size_t n, size_t stride, uintptr_t v)
{
    size_t lo = 0, hi = n;

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        uintptr_t key;
        memcpy(&key, (const char *)base + mid * stride, sizeof key);
        if (key <= v)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static long find_slow(uintptr_t v)
{
    return (long)last_at_most(mw__B, mw__N, sizeof *mw__B, v);
}

long mw__mark_find(uintptr_t v)
{
    size_t k;
    const struct mw__cb *b;

    if (v < mw__lo_addr || v >= mw__hi_addr)
        return -1;
    if (__builtin_expect(grain != NULL, 1)) {
        size_t a, e;
        const struct seg *sg = &segs[last_at_most(segs, nsegs, sizeof *segs, v)];
        const uint32_t *g;
        if (v < sg->lo || v >= sg->hi)
            return -1;
        g = grain + sg->base + ((v >> shift) - (sg->lo >> shift));
        a = g[0];
        e = g[1];
        /* the first block of [a, e) starting above v; the one before it is the candidate */
        if (e - a <= LINEAR_SPAN) {
            while (a < e && starts[a] <= v)
                a++;
        } else {
            while (a < e) {
                size_t mid = a + (e - a) / 2;
                if (starts[mid] <= v)
                    a = mid + 1;
                else
                    e = mid;
            }
        }
        if (a == 0)
            return -1;
        k = a - 1;
    } else {
        k = (size_t)find_slow(v);
    }
    b = &mw__B[k];
    if (b->addr > v)
        return -1;
    if (v < b->addr + b->size || (b->size == 0 && v == b->addr))
        return (long)k;
    return -1;
}

static void push(size_t i)
{
    if (top < stack_cap)
        stack[top++] = (uint32_t)i;
}

/* memcheck's interior-pointer heuristics (all on by default): an interior pointer that matches
 * one makes the block reachable. Returns the heuristic (1-4) or 0. */
static unsigned heuristic(uintptr_t v, struct mw__cb *b)
{
    const uintptr_t *w = (const uintptr_t *)b->addr;
    uint64_t size = b->size;

    /* stdstring: length, capacity, refcount, then the characters v points at */
    if (v == b->addr + 24 && size >= 16 && 24 + w[1] + 1 == size && w[0] <= w[1])
        return MW__HEUR_STDSTRING;
    /* length64: a 64-bit count of the bytes that follow it */
    if (v == b->addr + 8 && size >= 8 && w[0] > 0 && size - 8 == w[0])
        return MW__HEUR_LENGTH64;
    /* newarray: new[] of objects with destructors stores the element count first */
    if (v == b->addr + 8 && size >= 8 && w[0] > 0 && (size - 8) % w[0] == 0)
        return MW__HEUR_NEWARRAY;
    /* multipleinheritance: v points at a secondary vtable pointer, the block starts with one.
     * Whether the block starts with one is asked once a block: a block that many interior
     * pointers reach (an interpreter's arena) then costs no read of memory at each. */
    if (!(v & 7) && size >= 8 && v + 8 <= b->addr + size) {
        uintptr_t inner;
        if (b->vtable == MW__VT_UNKNOWN) {
            uintptr_t first = w[0];
            b->vtable = !(first & 7) && first >= 4096 && mw__roots_is_vtable(first) ? MW__VT_YES
                                                                                    : MW__VT_NO;
        }
        if (b->vtable == MW__VT_NO)
            return 0;
        inner = *(const uintptr_t *)v;
        if (!(inner & 7) && inner >= 4096 && mw__roots_is_vtable(inner))
            return MW__HEUR_MULTIPLE;
    }
    return 0;
}

/* v found in a root (from_reachable) or in a block being scanned. */
static void hit(uintptr_t v, int from_reachable)
{
    long i = mw__mark_find(v);
    struct mw__cb *b;
    int as_start;

    if (i < 0)
        return;
    b = &mw__B[i];
    if (b->state == MW__LEAK_REACHABLE) {
        if (b->heur && v == b->addr)
            b->heur = 0; /* reachable through its start after all */
        return;
    }
    as_start = v == b->addr;
    if (!as_start) {
        b->heur = (uint8_t)heuristic(v, b);
        as_start = b->heur != 0;
    }
    if (as_start && from_reachable) {
        b->state = MW__LEAK_REACHABLE;
        push((size_t)i);
    } else if (b->state == MW__LEAK_DEFINITE) {
        b->state = MW__LEAK_POSSIBLE;
        push((size_t)i);
    }
}

void mw__mark_hit(uintptr_t v)
{
    hit(v, 1);
}

static void clique_hit(uintptr_t v, size_t leader)
{
    long i = mw__mark_find(v);
    struct mw__cb *b;

    if (i < 0 || (size_t)i == leader)
        return;
    b = &mw__B[i];
    if (b->state != MW__LEAK_DEFINITE)
        return;
    push((size_t)i);
    mw__B[leader].indirect += b->size + b->indirect;
    b->indirect = 0;
    b->state = MW__LEAK_INDIRECT;
}

/* How a block's words are taken: from a clique's leader (leader >= 0), or marking. */
struct scan_how {
    long leader;
    int reachable;
};

static inline void word_hit(void *ctx, uintptr_t v, uintptr_t where)
{
    const struct scan_how *h = ctx;

    (void)where;
    if (h->leader < 0)
        hit(v, h->reachable);
    else
        clique_hit(v, (size_t)h->leader);
}

static inline void scan_words(uintptr_t p, uintptr_t end, const struct scan_how *h)
{
    mw__scan_words(p, end, mw__lo_addr, mw__hi_addr, word_hit, (void *)h);
}

static void scan_run(uintptr_t lo, uintptr_t hi, void *ctx)
{
    scan_words(lo, hi, ctx);
}

/* A large block is read only where it was written: a program's big buffer, mostly untouched,
 * would otherwise cost a page fault a page. */
#define LARGE_BLOCK (64u << 10)

static void scan_block(size_t i, long leader)
{
    uintptr_t p = mw__B[i].addr, end = p + mw__B[i].size;
    struct scan_how h = {leader, mw__B[i].state == MW__LEAK_REACHABLE};

    if (mw__B[i].size >= LARGE_BLOCK)
        mw__roots_scan_written(p, end, scan_run, &h);
    else
        scan_words(p, end, &h);
}

static void drain(long leader)
{
    while (top > 0)
        scan_block(stack[--top], leader);
}

void mw__mark_drain(void)
{
    drain(-1);
}

void mw__mark_clique(size_t i)
{
    if (mw__B[i].state != MW__LEAK_DEFINITE)
        return;
    push(i);
    drain((long)i);
}

static inline void root_hit(void *ctx, uintptr_t v, uintptr_t where)
{
    (void)ctx;
    (void)where;
    hit(v, 1);
}

void mw__mark_range(uintptr_t lo, uintptr_t hi)
{
    scanned += hi > lo ? hi - lo : 0;
    mw__scan_words(lo, hi, mw__lo_addr, mw__hi_addr, root_hit, NULL);
}
