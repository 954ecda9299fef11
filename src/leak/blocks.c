/* The live blocks: a 16-byte header in front of every block the program gets, and a slot array
 * that lists them for the exit scan.
 *
 * Why not a hash table keyed by address: freeing a random block would then cost a cache miss in
 * the table on top of the allocator's own, and that miss dominated the tracer's cost. The header
 * sits in the cache line the allocator reads anyway; the slot a block occupies is taken from a
 * per-thread LIFO list of free slots (so it is hot: the one just released), and releasing one is
 * a single store. Headers carry a check word keyed with a per-process secret, so a pointer the
 * tracer did not hand out (allocated while tracing was off) is recognised and passed through.
 *
 *   header (at p - 16): w0 = size (48 bits) | log2(offset to the allocator's pointer) << 48
 *                            | allocation kind (MW__ALLOC_*) << 56
 *                       w1 = one of (low half first):
 *                            live:  slot (32 bits), check (32 bits)
 *                            plain: PLAIN, check: a block handed out untracked (a call nested in
 *                                   the tracer), which free passes to the allocator
 *                            freed: free trace (24), allocation trace (24), check (16 bits): a
 *                                   block freed and held by the freed-block queue (freelist.c),
 *                                   so that a second release of it is recognised and described
 *                            ~0:    forgotten (the queue gave the block back to the allocator)
 *   slot:               p (even) and seq (40 bits) | trace (24 bits); a free slot holds
 *                       (next free slot << 1) | 1
 *
 * Before a header is read, the address must lie in a 2 MiB granule where the allocator has
 * handed the tracer memory (a byte map): a pointer into memory nobody mapped is then an invalid
 * free to report, not a fault in the tracer. A free turns the header from live to freed with one
 * compare-and-swap once threads exist, so two threads freeing the same block cannot both win. */
#include "common/assert.h"
#include "leak/leak.h"
#include "leak/profile.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>

#define PAGE_BITS  16
#define PAGE_SLOTS (1u << PAGE_BITS)
#define MAX_PAGES  65536u
#define END        0xffffffffu
#define BATCH      256u
#define LOCAL_MAX  4096u
#define TRACE_BITS 24

struct slot {
    uintptr_t p;
    uint64_t meta; /* seq << 24 | trace */
};

struct hdr {
    uint64_t w0;
    uint64_t w1; /* slot | check << 32 (live, plain), see above (freed) */
};

#define PLAIN      0xfffffffeu
#define FORGOTTEN  (~(uint64_t)0)
#define SIZE_MASK  ((1ull << 48) - 1)
#define KEY_PLAIN  0x5bd1e9955bd1e995ull
#define KEY_FREED  0x27d4eb2f165667c5ull
#define TRACE_MASK ((1u << TRACE_BITS) - 1)

/* The granule map: one byte per 2 MiB of address space where the allocator gave memory, in
 * leaves of 128 GiB mapped on first use. */
#define GRAN_BITS 21
#define LEAF_BITS 16
#define LEAVES    (1u << (47 - GRAN_BITS - LEAF_BITS))
static unsigned char *leaves[LEAVES];

static struct slot *pages[MAX_PAGES];
static uint32_t high;        /* slots ever handed out */
static uint32_t global_free; /* head of the shared free list */
static uint32_t global_count;
static mw__lock_t lock;
static uint64_t secret;
static uint64_t next_seq = 1;
static uint64_t g_allocs, g_frees, g_bytes; /* folded from exited threads */
/* 1 once the program turned the time stamp counter off (PR_SET_TSC): reading it would then
 * raise SIGSEGV in the program (mw__blocks_slot_cold). */
static int tsc_off;

static inline struct slot *S(uint32_t i)
{
    mw__assert(pages[i >> PAGE_BITS] != NULL);
    return &pages[i >> PAGE_BITS][i & (PAGE_SLOTS - 1)];
}

static inline uint32_t checkword(uintptr_t p, uint64_t w0, uint32_t slot)
{
    uint64_t h = (p ^ secret) * 0x9E3779B97F4A7C15ull;

    h ^= w0 + ((uint64_t)slot << 7);
    h *= 0xC2B2AE3D27D4EB4Full;
    return (uint32_t)(h >> 32);
}

static inline uint64_t live_w1(uintptr_t p, uint64_t w0, uint32_t slot)
{
    return slot | (uint64_t)checkword(p, w0, slot) << 32;
}

static inline uint64_t plain_w1(uintptr_t p, uint64_t w0)
{
    return PLAIN | (uint64_t)(checkword(p, w0 ^ KEY_PLAIN, PLAIN)) << 32;
}

static inline uint64_t freed_w1(uintptr_t p, uint64_t w0, uint32_t ftrace, uint32_t atrace)
{
    uint64_t v = (uint64_t)(ftrace & TRACE_MASK) | (uint64_t)(atrace & TRACE_MASK) << 24;

    return v | (uint64_t)(checkword(p, w0 ^ KEY_FREED, (uint32_t)(v ^ (v >> 32))) >> 16) << 48;
}

/* Marks the granules of [lo, hi) as holding allocator memory. */
static void granules_mark(uintptr_t lo, uintptr_t hi)
{
    uintptr_t g;

    for (g = lo >> GRAN_BITS; g <= (hi - 1) >> GRAN_BITS; g++) {
        unsigned char *leaf;
        if ((g >> LEAF_BITS) >= LEAVES)
            return;
        leaf = __atomic_load_n(&leaves[g >> LEAF_BITS], __ATOMIC_ACQUIRE);
        if (__builtin_expect(!leaf, 0)) {
            mw__lock(&lock);
            if (!(leaf = leaves[g >> LEAF_BITS]) &&
                (leaf = mw__leak_map((size_t)1 << LEAF_BITS)) != NULL)
                __atomic_store_n(&leaves[g >> LEAF_BITS], leaf, __ATOMIC_RELEASE);
            mw__unlock(&lock);
            if (!leaf)
                return; /* lookups treat the granule as unknown memory */
        }
        if (!leaf[g & ((1u << LEAF_BITS) - 1)])
            leaf[g & ((1u << LEAF_BITS) - 1)] = 1; /* (2 stays 2) */
    }
}

/* What the granule of p's header held: 0 no allocator memory (the header is not read), 1 the
 * allocator's blocks, 2 blocks the allocator mapped on its own and unmaps when they are freed
 * (the header is read without faulting, by a system call). */
static inline int header_readable(uintptr_t p)
{
    uintptr_t g = (p - sizeof(struct hdr)) >> GRAN_BITS;
    const unsigned char *leaf;

    if ((g >> LEAF_BITS) >= LEAVES)
        return 0;
    leaf = __atomic_load_n(&leaves[g >> LEAF_BITS], __ATOMIC_ACQUIRE);
    return leaf ? leaf[g & ((1u << LEAF_BITS) - 1)] : 0;
}

/* glibc's chunk header: the size word before the allocator's pointer; bit 1 marks a chunk it
 * mapped on its own (munmap'd on free). */
#define GLIBC_IS_MMAPPED 2u
static int allocator_is_glibc = -1;

void mw__blocks_unmapping(const void *ptr, const void *realp)
{
    uintptr_t p = (uintptr_t)ptr, g, real = (uintptr_t)realp;

    if (allocator_is_glibc < 0) {
        Dl_info info;
        allocator_is_glibc = dladdr((void *)mw__real.free, &info) && info.dli_fname &&
                             strstr(info.dli_fname, "/libc.so");
    }
    if (!allocator_is_glibc || !(((const size_t *)real)[-1] & GLIBC_IS_MMAPPED))
        return;
    /* A later release of this pointer must not fault on the unmapped header. */
    g = (p - sizeof(struct hdr)) >> GRAN_BITS;
    if ((g >> LEAF_BITS) < LEAVES && leaves[g >> LEAF_BITS])
        leaves[g >> LEAF_BITS][g & ((1u << LEAF_BITS) - 1)] = 2;
}

int mw__blocks_init(void)
{
    uint64_t s = 0;
    int tsc = PR_TSC_ENABLE;

    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s)
        s = (uint64_t)(uintptr_t)&s * 0x9E3779B97F4A7C15ull ^ (uint64_t)__builtin_ia32_rdtsc();
    secret = s | 1;
    global_free = END;
    /* (inherited across execve from a program that turned it off) */
    if (prctl(PR_GET_TSC, (unsigned long)&tsc, 0, 0, 0) == 0 && tsc != PR_TSC_ENABLE)
        tsc_off = 1;
    return 0;
}

/* Refills the thread's free list: from the shared list, else fresh slots. */
static int refill(struct mw__leak_thread *t)
{
    uint32_t i, first, n = 0;

    mw__lock(&lock);
    if (global_free != END) {
        /* Take up to BATCH from the shared list. */
        first = global_free;
        i = first;
        for (n = 1; n < BATCH && (S(i)->p >> 1) != END; n++)
            i = (uint32_t)(S(i)->p >> 1);
        global_free = (uint32_t)(S(i)->p >> 1);
        global_count -= n;
        S(i)->p = ((uintptr_t)END << 1) | 1;
        mw__unlock(&lock);
        t->free_head = first;
        t->free_tail = i;
        t->free_count = n;
        return 0;
    }
    if (high > END - BATCH || (high + BATCH) >> PAGE_BITS >= MAX_PAGES) {
        mw__unlock(&lock);
        mw__leak_limit(MW__LEAK_LIMIT_BLOCKS, "the block table is full");
        return -1;
    }
    first = high;
    for (i = first; i < first + BATCH; i++) {
        if (!pages[i >> PAGE_BITS]) {
            pages[i >> PAGE_BITS] = mw__leak_map(PAGE_SLOTS * sizeof(struct slot));
            if (!pages[i >> PAGE_BITS]) {
                mw__unlock(&lock);
                return -1;
            }
        }
        /* Slots are handed out in order: their pages are mapped in 64 KiB at a time. */
        if ((i * sizeof(struct slot)) % MW__PREFAULT == 0)
            mw__leak_prefault(S(i), MW__PREFAULT);
        S(i)->p = ((uintptr_t)(i + 1 < first + BATCH ? i + 1 : END) << 1) | 1;
    }
    high = first + BATCH;
    mw__unlock(&lock);
    t->free_head = first;
    t->free_tail = first + BATCH - 1;
    t->free_count = BATCH;
    return 0;
}

/* Gives the thread's whole free list to the shared one. */
static void spill(struct mw__leak_thread *t)
{
    if (!t->free_count)
        return;
    mw__lock(&lock);
    mw__assert(t->free_tail != END && (S(t->free_tail)->p & 1));
    S(t->free_tail)->p = ((uintptr_t)global_free << 1) | 1;
    global_free = t->free_head;
    global_count += t->free_count;
    mw__unlock(&lock);
    t->free_head = t->free_tail = END;
    t->free_count = 0;
}

/* Allocation numbers: threads take them from the shared counter 1,024 at a time, so that
 * allocating threads do not fight over one cache line. The order across threads is then exact
 * to within a thousand allocations, which is all "first allocated" needs. */
static inline uint64_t take_seq(struct mw__leak_thread *t)
{
    if (!mw__leak_mt)
        return next_seq++;
    if (t->seq_next == t->seq_end) {
        t->seq_next = __atomic_fetch_add(&next_seq, 1024, __ATOMIC_RELAXED);
        t->seq_end = t->seq_next + 1024;
    }
    return t->seq_next++;
}

void *mw__blocks_add(struct mw__leak_thread *t, void *real, size_t off, uint64_t size,
                     uint32_t trace, unsigned kind)
{
    uintptr_t p = (uintptr_t)real + off;
    struct hdr *h = (struct hdr *)(p - sizeof(struct hdr));
    uint32_t s;
    uint64_t seq;

    if (__builtin_expect(!header_readable(p), 0))
        granules_mark(p - sizeof(struct hdr), p);
    if (!t->free_count && refill(t) < 0) {
        mw__leak_disable("out of memory for the block list");
        return mw__blocks_plain(real, off, size);
    }
    s = t->free_head;
    mw__assert(S(s)->p & 1); /* a free slot */
    mw__assert(off && !(off & (off - 1)) && size <= SIZE_MASK);
    t->free_head = (uint32_t)(S(s)->p >> 1);
    if (--t->free_count == 0)
        t->free_tail = END;
    seq = take_seq(t);
    if (trace >= (1u << TRACE_BITS))
        trace = 0;
    S(s)->meta = seq << TRACE_BITS | trace;
    S(s)->p = p;
    h->w0 = size | (uint64_t)__builtin_ctzll(off) << 48 | (uint64_t)(kind & 3) << 56;
    h->w1 = live_w1(p, h->w0, s);
    if (__builtin_expect(mw__prof_on, 0))
        mw__prof_alloc(t, size, trace);
    t->allocs++;
    t->bytes += size;
    return (void *)p;
}

void *mw__blocks_plain(void *real, size_t off, uint64_t size)
{
    uintptr_t p = (uintptr_t)real + off;
    struct hdr *h = (struct hdr *)(p - sizeof(struct hdr));

    if (!secret)
        return (void *)p;
    if (__builtin_expect(!header_readable(p), 0))
        granules_mark(p - sizeof(struct hdr), p);
    h->w0 = (size & SIZE_MASK) | (uint64_t)__builtin_ctzll(off) << 48;
    h->w1 = plain_w1(p, h->w0);
    return (void *)p;
}

static inline void decode_w0(uintptr_t p, uint64_t w0, struct mw__blkinfo *out)
{
    out->size = w0 & SIZE_MASK;
    out->off = (size_t)1 << ((w0 >> 48) & 63);
    out->kind = (uint32_t)(w0 >> 56) & 3;
    out->real = (void *)(p - out->off);
}

int mw__blocks_maybe(const void *ptr)
{
    uintptr_t p = (uintptr_t)ptr;

    return secret && !(p & 15) && p >= 4096 && header_readable(p);
}

int mw__blocks_state(const void *ptr, struct mw__blkinfo *out)
{
    uintptr_t p = (uintptr_t)ptr;
    const struct hdr *h = (const struct hdr *)(p - sizeof(struct hdr));
    uint64_t w0, w1;
    uint32_t s, logoff;
    int g;

    if (!secret || (p & 15) || p < 4096 || !(g = header_readable(p)))
        return MW__BLK_NONE;
    if (__builtin_expect(g == 2, 0)) {
        struct hdr copy = {0};
        if (mw__sys_safe_read((uintptr_t)h, &copy, sizeof copy) < 0)
            return MW__BLK_NONE;
        w0 = copy.w0;
        w1 = copy.w1;
    } else {
        w0 = h->w0;
        w1 = __atomic_load_n(&h->w1, __ATOMIC_ACQUIRE);
    }
    s = (uint32_t)w1;
    out->w1 = w1;
    if (s < high && (uint32_t)(w1 >> 32) == checkword(p, w0, s)) {
        decode_w0(p, w0, out);
        out->slot = s;
        out->alloc_trace = 0; /* in the slot: mw__blocks_slot_trace (another cache line) */
        out->free_trace = 0;
        return MW__BLK_LIVE;
    }
    if (w1 == plain_w1(p, w0)) {
        decode_w0(p, w0, out);
        out->slot = PLAIN;
        out->alloc_trace = out->free_trace = 0;
        return MW__BLK_PLAIN;
    }
    /* A freed header has a short check: its other words must look right too. */
    logoff = (uint32_t)(w0 >> 48) & 0xff;
    if (w1 != FORGOTTEN && (w0 >> 58) == 0 && ((w0 >> 56) & 3) != 3 && logoff >= 4 &&
        logoff <= 40 && ((w0 & SIZE_MASK) >> 47) == 0 &&
        w1 == freed_w1(p, w0, (uint32_t)w1 & TRACE_MASK, (uint32_t)(w1 >> 24) & TRACE_MASK)) {
        decode_w0(p, w0, out);
        out->slot = END;
        out->free_trace = (uint32_t)w1 & TRACE_MASK;
        out->alloc_trace = (uint32_t)(w1 >> 24) & TRACE_MASK;
        return MW__BLK_FREED;
    }
    return MW__BLK_NONE;
}

uint32_t mw__blocks_slot_trace(uint32_t slot)
{
    return slot < high ? (uint32_t)(S(slot)->meta & TRACE_MASK) : 0;
}

void mw__blocks_prefetch_slot(uint32_t slot)
{
    if (slot < high)
        __builtin_prefetch(S(slot), 1);
}

void mw__blocks_prctl(long option, unsigned long arg)
{
    if (option == PR_SET_TSC && arg != PR_TSC_ENABLE)
        __atomic_store_n(&tsc_off, 1, __ATOMIC_RELAXED);
}

int mw__blocks_slot_cold(uint32_t slot)
{
#if defined(__x86_64__)
    const volatile uint64_t *m;
    uint64_t t0, t1, t2;

    if (slot >= high || __atomic_load_n(&tsc_off, __ATOMIC_RELAXED))
        return -1;
    m = &S(slot)->meta;
    /* lfence: the time stamp is read once the instructions before it are done (the load). */
    __builtin_ia32_lfence();
    t0 = __builtin_ia32_rdtsc();
    __builtin_ia32_lfence();
    (void)*m;
    __builtin_ia32_lfence();
    t1 = __builtin_ia32_rdtsc();
    __builtin_ia32_lfence();
    (void)*m;
    __builtin_ia32_lfence();
    t2 = __builtin_ia32_rdtsc();
    return t1 - t0 > 2 * (t2 - t1);
#else
    (void)slot;
    return -1;
#endif
}

int mw__blocks_lookup(const void *ptr, struct mw__blkinfo *out)
{
    return mw__blocks_state(ptr, out) == MW__BLK_LIVE;
}

int mw__blocks_release(struct mw__leak_thread *t, const void *ptr, struct mw__blkinfo *b)
{
    struct hdr *h = (struct hdr *)((uintptr_t)ptr - sizeof(struct hdr));
    uint64_t live = b->w1, freed, w0 = h->w0;

    mw__assert(live == live_w1((uintptr_t)ptr, w0, b->slot) || h->w1 != live);
    b->alloc_trace = (uint32_t)(S(b->slot)->meta & TRACE_MASK);
    freed = freed_w1((uintptr_t)ptr, w0, b->free_trace, b->alloc_trace);

    /* A second release of this pointer finds it freed; of two at once, one wins. */
    if (!mw__leak_mt) {
        if (h->w1 != live)
            return 0; /* released before, in the same batch */
        h->w1 = freed;
    } else if (!__atomic_compare_exchange_n(&h->w1, &live, freed, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_RELAXED))
        return 0;
    mw__assert(S(b->slot)->p == (uintptr_t)ptr); /* the slot listed this block */
    if (__builtin_expect(mw__prof_on, 0))
        mw__prof_free(t, b->size, S(b->slot)->meta);
    S(b->slot)->p = ((uintptr_t)t->free_head << 1) | 1;
    if (t->free_count++ == 0)
        t->free_tail = b->slot;
    t->free_head = b->slot;
    t->frees++;
    if (t->free_count > LOCAL_MAX)
        spill(t);
    return 1;
}

void mw__blocks_extent(const void *ptr, void **real, uint64_t *size)
{
    const struct hdr *h = (const struct hdr *)((uintptr_t)ptr - sizeof(struct hdr));
    uint64_t w0 = h->w0;

    if (real)
        *real = (void *)((uintptr_t)ptr - ((size_t)1 << ((w0 >> 48) & 63)));
    *size = w0 & SIZE_MASK;
}

void mw__blocks_freed(const void *ptr, struct mw__blkinfo *out)
{
    uintptr_t p = (uintptr_t)ptr;
    const struct hdr *h = (const struct hdr *)(p - sizeof(struct hdr));
    uint64_t w1 = h->w1;

    decode_w0(p, h->w0, out);
    out->slot = END;
    out->free_trace = (uint32_t)w1 & TRACE_MASK;
    out->alloc_trace = (uint32_t)(w1 >> 24) & TRACE_MASK;
}

void mw__blocks_forget(void *ptr)
{
    struct hdr *h = (struct hdr *)((uintptr_t)ptr - sizeof(struct hdr));

    __atomic_store_n(&h->w1, FORGOTTEN, __ATOMIC_RELEASE);
}

void mw__blocks_count_invalid(struct mw__leak_thread *t, int is_realloc, uint64_t size)
{
    t->frees++;
    if (is_realloc) {
        t->allocs++;
        t->bytes += size;
    }
}

int mw__blocks_find(uintptr_t a, size_t margin, struct mw__blkinfo *out, uintptr_t *start)
{
    uint32_t i, best = END, next = END;
    uintptr_t bp = 0, np = UINTPTR_MAX;

    /* The nearest live block at or below a, and the nearest above it within the margin. */
    for (i = 0; i < high; i++) {
        uintptr_t p = __atomic_load_n(&S(i)->p, __ATOMIC_RELAXED);
        if (p & 1 || !p)
            continue;
        if (p <= a && p >= bp) {
            bp = p;
            best = i;
        } else if (p > a && p - a <= margin && p < np) {
            np = p;
            next = i;
        }
    }
    if (best != END) {
        struct hdr h = {0};
        if (mw__sys_safe_read(bp - sizeof h, &h, sizeof h) == 0 && (uint32_t)h.w1 == best &&
            a < bp + (h.w0 & SIZE_MASK) + margin) {
            decode_w0(bp, h.w0, out);
            out->slot = best;
            out->alloc_trace = (uint32_t)(S(best)->meta & TRACE_MASK);
            out->free_trace = 0;
            *start = bp;
            return 1;
        }
    }
    if (next != END) {
        struct hdr h = {0};
        if (mw__sys_safe_read(np - sizeof h, &h, sizeof h) == 0 && (uint32_t)h.w1 == next) {
            decode_w0(np, h.w0, out);
            out->slot = next;
            out->alloc_trace = (uint32_t)(S(next)->meta & TRACE_MASK);
            out->free_trace = 0;
            *start = np;
            return 1;
        }
    }
    return 0;
}

/* Moves a block (realloc in place or to a new address): same slot, new address, size, stack. */
void *mw__blocks_move(struct mw__leak_thread *t, void *real, const struct mw__blkinfo *b,
                      uint64_t size, uint32_t trace)
{
    uintptr_t p = (uintptr_t)real + b->off;
    struct hdr *h = (struct hdr *)(p - sizeof(struct hdr));
    uint64_t seq = take_seq(t);

    if (__builtin_expect(!header_readable(p), 0))
        granules_mark(p - sizeof(struct hdr), p);
    if (trace >= (1u << TRACE_BITS))
        trace = 0;
    if (__builtin_expect(mw__prof_on, 0))
        mw__prof_realloc(t, b->size, S(b->slot)->meta, size, trace);
    S(b->slot)->meta = seq << TRACE_BITS | trace;
    S(b->slot)->p = p;
    h->w0 = size | (uint64_t)__builtin_ctzll(b->off) << 48 | (uint64_t)(b->kind & 3) << 56;
    h->w1 = live_w1(p, h->w0, b->slot);
    t->frees++;
    t->allocs++;
    t->bytes += size;
    return (void *)p;
}

uint64_t mw__blocks_next_seq(void)
{
    return __atomic_load_n(&next_seq, __ATOMIC_RELAXED);
}

void mw__blocks_thread_done(struct mw__leak_thread *t)
{
    spill(t);
    __atomic_add_fetch(&g_allocs, t->allocs, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g_frees, t->frees, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g_bytes, t->bytes, __ATOMIC_RELAXED);
    t->allocs = t->frees = t->bytes = 0;
}

void mw__blocks_fold(struct mw__leak_thread *t)
{
    g_allocs += t->allocs;
    g_frees += t->frees;
    g_bytes += t->bytes;
    t->allocs = t->frees = t->bytes = 0;
    t->free_head = t->free_tail = END;
    t->free_count = 0;
}

void mw__blocks_totals(uint64_t *allocs, uint64_t *frees, uint64_t *bytes)
{
    *allocs = g_allocs;
    *frees = g_frees;
    *bytes = g_bytes;
    mw__leak_threads_sum(allocs, frees, bytes);
}

size_t mw__blocks_count(void)
{
    uint32_t i;
    size_t n = 0;

    for (i = 0; i < high; i++)
        if (!(S(i)->p & 1))
            n++;
    return n;
}

size_t mw__blocks_snapshot(mw__block_t *out, size_t max)
{
    uint32_t i;
    size_t n = 0;

    for (i = 0; i < high; i++) {
        const struct slot *s = S(i);
        const struct hdr *h;
        if (s->p & 1 || !s->p)
            continue;
        if (n < max) {
            h = (const struct hdr *)(s->p - sizeof(struct hdr));
            out[n].addr = s->p;
            out[n].size = h->w0 & SIZE_MASK;
            out[n].seq = s->meta >> TRACE_BITS;
            out[n].trace = (uint32_t)(s->meta & ((1u << TRACE_BITS) - 1));
            out[n].flags = (uint32_t)(1u << ((h->w0 >> 48) & 63)); /* offset to the real pointer */
        }
        n++;
    }
    return n;
}

void mw__blocks_lock_all(void)
{
    mw__lock_always(&lock);
}

void mw__blocks_unlock_all(void)
{
    mw__unlock_always(&lock);
}
