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
 *                       slot (32 bits), check (32 bits)
 *   slot:               p (even) and seq (40 bits) | trace (24 bits); a free slot holds
 *                       (next free slot << 1) | 1 */
#include "leak/leak.h"
#include "leak/profile.h"

#include <string.h>
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
    uint32_t slot;
    uint32_t check;
};

static struct slot *pages[MAX_PAGES];
static uint32_t high;        /* slots ever handed out */
static uint32_t global_free; /* head of the shared free list */
static uint32_t global_count;
static mw__lock_t lock;
static uint64_t secret;
static uint64_t next_seq = 1;
static uint64_t g_allocs, g_frees, g_bytes; /* folded from exited threads */

static inline struct slot *S(uint32_t i)
{
    return &pages[i >> PAGE_BITS][i & (PAGE_SLOTS - 1)];
}

static inline uint32_t checkword(uintptr_t p, uint64_t w0, uint32_t slot)
{
    uint64_t h = (p ^ secret) * 0x9E3779B97F4A7C15ull;

    h ^= w0 + ((uint64_t)slot << 7);
    h *= 0xC2B2AE3D27D4EB4Full;
    return (uint32_t)(h >> 32);
}

int mw__blocks_init(void)
{
    uint64_t s = 0;

    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s)
        s = (uint64_t)(uintptr_t)&s * 0x9E3779B97F4A7C15ull ^ (uint64_t)__builtin_ia32_rdtsc();
    secret = s | 1;
    global_free = END;
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
                     uint32_t trace)
{
    uintptr_t p = (uintptr_t)real + off;
    struct hdr *h = (struct hdr *)(p - sizeof(struct hdr));
    uint32_t s;
    uint64_t seq;

    if (!t->free_count && refill(t) < 0) {
        mw__leak_disable("out of memory for the block list");
        h->w0 = 0;
        h->slot = END;
        h->check = 0; /* never valid: freed as an untracked block would be... */
        return (void *)p;
    }
    s = t->free_head;
    t->free_head = (uint32_t)(S(s)->p >> 1);
    if (--t->free_count == 0)
        t->free_tail = END;
    seq = take_seq(t);
    if (trace >= (1u << TRACE_BITS))
        trace = 0;
    S(s)->meta = seq << TRACE_BITS | trace;
    S(s)->p = p;
    h->w0 = size | (uint64_t)__builtin_ctzll(off) << 48;
    h->slot = s;
    h->check = checkword(p, h->w0, s);
    if (__builtin_expect(mw__prof_on, 0))
        mw__prof_alloc(t, size, trace);
    t->allocs++;
    t->bytes += size;
    return (void *)p;
}

int mw__blocks_lookup(const void *ptr, struct mw__blkinfo *out)
{
    uintptr_t p = (uintptr_t)ptr;
    const struct hdr *h = (const struct hdr *)(p - sizeof(struct hdr));
    uint64_t w0;
    uint32_t s;

    if (!secret || (p & 15))
        return 0;
    w0 = h->w0;
    s = h->slot;
    if (h->check != checkword(p, w0, s) || s >= high)
        return 0;
    if (__builtin_expect(mw__prof_on, 0))
        __builtin_prefetch(S(s)); /* the heap profile reads the slot's stack soon */
    out->size = w0 & ((1ull << 48) - 1);
    out->off = (size_t)1 << (w0 >> 48);
    out->slot = s;
    out->real = (void *)(p - out->off);
    return 1;
}

void mw__blocks_release(struct mw__leak_thread *t, const void *ptr, const struct mw__blkinfo *b)
{
    struct hdr *h = (struct hdr *)((uintptr_t)ptr - sizeof(struct hdr));

    h->check = ~h->check; /* a second free of this pointer is no longer ours */
    if (__builtin_expect(mw__prof_on, 0))
        mw__prof_free(t, b->size, S(b->slot)->meta);
    S(b->slot)->p = ((uintptr_t)t->free_head << 1) | 1;
    if (t->free_count++ == 0)
        t->free_tail = b->slot;
    t->free_head = b->slot;
    t->frees++;
    if (t->free_count > LOCAL_MAX)
        spill(t);
}

/* Moves a block (realloc in place or to a new address): same slot, new address, size, stack. */
void *mw__blocks_move(struct mw__leak_thread *t, void *real, const struct mw__blkinfo *b,
                      uint64_t size, uint32_t trace)
{
    uintptr_t p = (uintptr_t)real + b->off;
    struct hdr *h = (struct hdr *)(p - sizeof(struct hdr));
    uint64_t seq = take_seq(t);

    if (trace >= (1u << TRACE_BITS))
        trace = 0;
    if (__builtin_expect(mw__prof_on, 0))
        mw__prof_realloc(t, b->size, S(b->slot)->meta, size, trace);
    S(b->slot)->meta = seq << TRACE_BITS | trace;
    S(b->slot)->p = p;
    h->w0 = size | (uint64_t)__builtin_ctzll(b->off) << 48;
    h->slot = b->slot;
    h->check = checkword(p, h->w0, b->slot);
    t->frees++;
    t->allocs++;
    t->bytes += size;
    return (void *)p;
}

void mw__blocks_prefetch(const void *ptr)
{
    const struct hdr *h = (const struct hdr *)((uintptr_t)ptr - sizeof(struct hdr));
    uint32_t s;

    if (!secret || ((uintptr_t)ptr & 15) || mw__in_pool(ptr))
        return;
    s = h->slot;
    if (s < high)
        __builtin_prefetch(S(s));
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
            out[n].size = h->w0 & ((1ull << 48) - 1);
            out[n].seq = s->meta >> TRACE_BITS;
            out[n].trace = (uint32_t)(s->meta & ((1u << TRACE_BITS) - 1));
            out[n].flags = (uint32_t)(1u << (h->w0 >> 48)); /* offset to the real pointer */
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
