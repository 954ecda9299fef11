/* The collector's internal types, shared by the files of src/gc.
 *
 * Three core types:
 *
 *   chunk   4 MiB of address space aligned on 4 MiB, from mmap. A normal chunk starts with its
 *           header (page descriptors and mark/alloc bitmaps, about 84 KiB) and splits the rest
 *           into 4 KiB pages. A huge object (over MW__GC_LARGE_MAX) gets a mapping of its own,
 *           aligned the same way, whose first page is a small header. A two-level table maps each
 *           4 MiB window of the address space to the chunk that owns it, so a candidate pointer is
 *           tested with two loads and no search.
 *
 *   block   a run of pages with one use: SMALL (4 pages cut into at most 1024 slots of one size
 *           class, scanned or atomic) or LARGE (one object). Every page of a block carries a copy
 *           of the block's descriptor (size, reciprocal, first page), so an interior pointer finds
 *           its object with one descriptor load and one multiplication. Each page owns one cache
 *           line of bitmaps in the header: 4 alloc words and, 4 words on, their 4 mark words; a
 *           block's 64-slot group g is in the line of its page g / 4 (mw__gc_group).
 *
 *   cursor  per thread and size class: the free slots of the block the thread allocates from. The
 *           fast path takes the lowest set bit of one 64-slot word: no lock, no list. A block's
 *           free slots are claimed (alloc bits set) and cleared when the cursor takes the block;
 *           a collection marks the unused ones so they stay reserved to the cursor.
 *
 * All of it lives in mmap'd memory the root scan never looks at; the few globals are in one
 * struct (mw__gc) that the data-root scan skips, so free lists and tables never act as roots.
 * Outside a collection every block's mark bits are zero except for blocks still waiting for their
 * lazy sweep (UNSWEPT), whose mark bits say which slots survived. */
#ifndef MEMWALK_GC_INTERNAL_H
#define MEMWALK_GC_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/assert.h"
#include "memwalk/gc.h"

#define MW__GC_PAGE_SHIFT  12
#define MW__GC_PAGE        ((uintptr_t)1 << MW__GC_PAGE_SHIFT)
#define MW__GC_CHUNK_SHIFT 22
#define MW__GC_CHUNK       ((uintptr_t)1 << MW__GC_CHUNK_SHIFT)
#define MW__GC_CHUNK_PAGES (MW__GC_CHUNK >> MW__GC_PAGE_SHIFT)
#define MW__GC_GRANULE     16
#define MW__GC_SMALL_MAX   4096
#define MW__GC_NCLASSES    28
#define MW__GC_BLOCK_PAGES 4  /* a block of small objects: 16 KiB */
#define MW__GC_GROUPS      16 /* 64-slot words of a block bitmap */
#define MW__GC_MAX_SLOTS   (64 * MW__GC_GROUPS)
#define MW__GC_LARGE_MAX   ((size_t)1 << 20)
#define MW__GC_ADDR_BITS   47
#define MW__GC_L1_SHIFT    36
#define MW__GC_L1_SIZE     ((size_t)1 << (MW__GC_ADDR_BITS - MW__GC_L1_SHIFT))
#define MW__GC_L2_SIZE     ((size_t)1 << (MW__GC_L1_SHIFT - MW__GC_CHUNK_SHIFT))
#define MW__GC_SCAN_SLICE  4096 /* bytes of one object scanned before the rest is pushed back */
#define MW__GC_KINDS       2    /* 0 scanned, 1 atomic */

/* Builds for AddressSanitizer (MW_GC_ASAN) or valgrind (MW_GC_VALGRIND) tell the tool which slots
 * are free, so a use of freed memory or a wild write into the heap is reported. They go with
 * MW_GC_EXPLICIT_ROOTS: the conservative stack and data scan reads memory those tools forbid. */
#if defined(MW_GC_ASAN)
#include <sanitizer/asan_interface.h>
#define MW__GC_NOACCESS(p, n)   ASAN_POISON_MEMORY_REGION((void *)(p), (size_t)(n))
#define MW__GC_ACCESSIBLE(p, n) ASAN_UNPOISON_MEMORY_REGION((void *)(p), (size_t)(n))
#elif defined(MW_GC_VALGRIND)
#include <valgrind/memcheck.h>
#define MW__GC_NOACCESS(p, n)   ((void)VALGRIND_MAKE_MEM_NOACCESS((p), (n)))
#define MW__GC_ACCESSIBLE(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define MW__GC_NOACCESS(p, n)   ((void)0)
#define MW__GC_ACCESSIBLE(p, n) ((void)0)
#endif

#define MW__GC_MIN(a, b)   ((a) < (b) ? (a) : (b))
#define MW__GC_MAX(a, b)   ((a) > (b) ? (a) : (b))
#define MW__GC_LIKELY(x)   __builtin_expect(!!(x), 1)
#define MW__GC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Table entries: a chunk address, plus for a huge mapping tag bit 0 and, in bits 1..11, how many
 * of this window's pages the mapping covers (1..1024). */
#define MW__GC_ENTRY_HUGE 1u

enum mw__gc_page_kind {
    MW__GC_FREE = 0, /* in a free run */
    MW__GC_HDR,      /* the chunk header */
    MW__GC_SMALL,    /* slots of one size class */
    MW__GC_LARGE,    /* one object */
};

enum mw__gc_page_flag {
    MW__GC_ATOMIC = 1,  /* every page: the block holds no pointers */
    MW__GC_ZEROED = 2,  /* every page: known to be zero (fresh from the OS, or given back) */
    MW__GC_UNSWEPT = 4, /* head: marked by the last collection, sweep pending */
    MW__GC_OWNED = 8,   /* head: a cursor allocates from this block */
    MW__GC_SEEN = 16,   /* head: swept by a collection, or a slot freed, while owned: the cursor
                         * lists it again when it lets go */
    MW__GC_LISTED = 32, /* head: in a sweep list (mw__gc.sweep) */
    MW__GC_OFF_PAGE_LARGE = 64, /* head of a large block: only pointers into its first page count
                                 * (the other pages have nslots 0) */
};

/* One per page; the pages of a block share its values (head = first page's index). */
struct mw__gc_pd {
    uint32_t size;   /* SMALL: slot size; LARGE: object bytes; FREE (first/last): run record */
    uint32_t recip;  /* SMALL: ceil(2^32 / size), slot = (offset * recip) >> 32; LARGE: 0 */
    uint16_t head;   /* first page of the block (or free run) */
    uint16_t nslots; /* SMALL: slots; LARGE: 1 */
    uint16_t npages; /* pages of the block or run */
    uint8_t kind;    /* enum mw__gc_page_kind */
    uint8_t flags;   /* enum mw__gc_page_flag */
};

enum mw__gc_chunk_kind { MW__GC_NORMAL = 1, MW__GC_HUGE = 2 };

/* Flags of a huge mapping (besides MW__GC_ATOMIC). */
enum mw__gc_huge_flag {
    MW__GC_OFF_PAGE = 64, /* only pointers into the object's first page keep it alive */
    MW__GC_TOMB = 128,    /* freed, its memory given back, its range kept while pointed into */
};

/* The first bytes of every chunk. */
struct mw__gc_chunk {
    uint32_t kind;
    uint32_t first_page; /* NORMAL: first page after the header */
    struct mw__gc_chunk *next, *prev;
    size_t map_size; /* bytes mapped */
    /* HUGE only */
    uintptr_t obj;
    size_t obj_size;
    uint32_t flags; /* MW__GC_ATOMIC, MW__GC_OFF_PAGE, MW__GC_TOMB */
    uint32_t since; /* a freed huge mapping: the collection count when it was freed */
    uint8_t bl;     /* a freed huge mapping: the black-list epoch of the last collection that met a
                     * candidate pointer into it */
    /* [0] bit 0 = allocated, [4] bit 0 = marked: the layout of a block's bitmaps */
    uint64_t bits[8];
};

/* A normal chunk's header. */
struct mw__gc_normal {
    struct mw__gc_chunk c;
    struct mw__gc_pd pd[MW__GC_CHUNK_PAGES];
    /* per page: the black-list epoch of the last collection that met a candidate pointer into it
     * while it was free (see mw__gc_black_list) */
    uint8_t bl[MW__GC_CHUNK_PAGES];
    /* bits[first page][0..3] = alloc, [4..7] = mark, one bit per slot */
    uint64_t bits[MW__GC_CHUNK_PAGES][8] __attribute__((aligned(64)));
};

#define MW__GC_HDR_PAGES ((sizeof(struct mw__gc_normal) + MW__GC_PAGE - 1) >> MW__GC_PAGE_SHIFT)

/* The free slots of one block, handed out by the fast path. The first three fields are all the
 * fast path reads. */
struct mw__gc_cursor {
    uint64_t bits;                /* free slots left in the current 64-slot group */
    uintptr_t base;               /* address of slot 0 of that group */
    uintptr_t size;               /* slot size */
    uintptr_t block;              /* first page of the block, 0 when none */
    uint64_t rest[MW__GC_GROUPS]; /* free slots of the later groups, not handed out yet */
};

/* One registered thread. */
struct mw__gc_thread {
    struct mw__gc_cursor cur[MW__GC_KINDS][MW__GC_NCLASSES];
    struct mw__gc_thread *next;
    pthread_t self;
    int tid;
    int tls_n;
    uintptr_t stack_lo, stack_hi;
    uintptr_t tls_lo[8], tls_hi[8];
    volatile uintptr_t stop_sp; /* stack pointer while stopped for a collection */
    uintptr_t entry_sp;         /* where the collecting thread entered the collector */
    uint32_t ack;               /* the world epoch it last stopped for (stop_sp is valid then) */
    uint32_t probed;            /* stop_world: what the last look at it found (enum in thread.c) */
};

/* A growable array in mmap'd memory. */
struct mw__gc_vec {
    void *data;
    size_t len, cap; /* elements */
};

struct mw__gc_run {
    struct mw__gc_normal *chunk; /* NULL when the record is free */
    uint32_t prev, next;         /* bucket list, 0 = none (record 0 is never used) */
    uint16_t first, npages;
    uint32_t released; /* every page is zero and given back */
    uint64_t since;    /* collection count when it became free */
};

#define MW__GC_BUCKETS 40

struct mw__gc_fin {
    uintptr_t obj; /* 0 empty, 1 deleted */
    mw_gc_finalizer_fn fn;
    void *ctx;
    unsigned flags; /* enum mw_gc_finalizer_flags */
};

struct mw__gc_mse {
    uintptr_t lo, hi;
};

struct mw__gc_options {
    int stats, verbose, disable, poison, signal, check;
    uint64_t growth, min_alloc, small_growth, min_heap, max_heap, unmap_after, mark_stack,
        ignore_off_page;
    uint64_t collect_every; /* 0, or collect at every N-th allocation call (control.c) */
    uint64_t markers, stop_timeout;
    uint64_t parallel_min; /* live bytes from which a collection marks in parallel (mark.c) */
};

/* One marker's mark stack during a parallel mark phase (mark.c). The owner pushes and pops at
 * its top without synchronisation; the entries [head, split) are public: another marker with no
 * work takes some from head up, holding lock. Only the owner moves split, holding lock: up to
 * publish the older half of its entries when markers are idle, down to take public entries back
 * when its own part ran out. */
struct mw__gc_marker {
    struct mw__gc_vec *stack; /* marker 0 (the collecting thread): &mw__gc.mark_stack */
    struct mw__gc_vec own;
    uint64_t marked;
    uint32_t seen_gen; /* helper: the last phase it looked at */
    int lock __attribute__((aligned(64)));
    size_t head, split;
} __attribute__((aligned(64)));

/* Parallel marking: helper threads, started before the world stops, that wait on gen between
 * phases. state counts the markers in the phase (bits 0..15), the idle ones (16..31) and says
 * when all were idle at once (bit 32: the phase is over); every marker reads it once per object,
 * so it has a cache line of its own. */
struct mw__gc_markers {
    unsigned n;              /* markers wanted (MEMWALK_GC_MARKERS or the CPUs), 1 = no helpers */
    unsigned started;        /* helper threads running */
    int use;                 /* this collection marks in parallel */
    uint32_t gen;            /* bumped to start a phase */
    uint32_t left;           /* helpers that finished the phase */
    struct mw__gc_marker *m; /* n of them, mmap'd */
    uint64_t phases, steals; /* parallel phases run, steals that took entries (for the tests) */
    uint64_t state __attribute__((aligned(64)));
    char pad[56];
    uint32_t work __attribute__((aligned(64))); /* bumped when entries become public or the
                                                 * phase ends: idle markers sleep on it */
    uint32_t sleepers;
};

/* The value a thread started by mw_gc_pthread_create returned, kept alive until it is joined
 * (mw_gc_pthread_join) or detached. */
struct mw__gc_exit_rec {
    pthread_t id;
    void *result;
    int state; /* enum in thread.c */
};

/* All of the collector's mutable globals. The data-root scan skips this struct. */
struct mw__gc_state {
    pthread_once_t once;
    int inited;
    int handler_installed;
    int ever_attached;
    pthread_mutex_t lock;
    struct mw__gc_options opt;
    size_t fast_limit; /* sizes below it take the fast path: 0 while every allocation must reach
                        * the slow path (MEMWALK_GC_COLLECT_EVERY) */
    uint8_t class_of[MW__GC_SMALL_MAX / MW__GC_GRANULE + 1];
    uint32_t class_size[MW__GC_NCLASSES];
    uint8_t class_pages[MW__GC_NCLASSES];
    uint16_t class_slots[MW__GC_NCLASSES];

    uintptr_t *l1[MW__GC_L1_SIZE]; /* the chunk table: window -> entry */
    uintptr_t heap_lo, heap_hi;    /* lowest and highest address of any chunk */
    struct mw__gc_chunk *chunks;   /* every chunk, normal and huge */

    /* page allocator */
    struct mw__gc_vec runs; /* struct mw__gc_run */
    uint32_t run_free;      /* free record list */
    uint32_t bucket[MW__GC_BUCKETS];
    uint64_t bl_grown;          /* bytes of chunks mapped to avoid black-listed pages, this cycle */
    uint8_t bl_epoch;           /* the black-list epoch of the collection marking now */
    uint64_t mapped_pages;      /* data pages of normal chunks */
    uint64_t clean_free_pages;  /* free pages not resident (fresh or given back) */
    uint64_t huge_bytes;        /* huge mappings, spares included */
    struct mw__gc_chunk *freed; /* freed huge mappings: spares kept for reuse, and tombs */
    uint64_t spare_bytes;

    /* blocks waiting for allocation, per kind and class (block addresses) */
    struct mw__gc_vec sweep[MW__GC_KINDS][MW__GC_NCLASSES];

    /* threads */
    struct mw__gc_thread *threads;
    int nthreads;
    pthread_key_t key;
    uint32_t acked;          /* bumped by each stopped thread (a futex the collector waits on) */
    volatile uint32_t world; /* odd while the world is stopped */

    /* marking */
    struct mw__gc_vec mark_stack; /* struct mw__gc_mse */
    int overflowed;
    uint64_t marked_bytes;
    struct mw__gc_vec roots;    /* struct mw__gc_mse: user roots */
    struct mw__gc_vec snapshot; /* data and TLS roots taken before stopping the world */

    /* finalization */
    struct mw__gc_fin *fin;
    size_t fin_cap, fin_used, fin_count;
    struct mw__gc_vec fin_queue; /* struct mw__gc_fin ready to run */
    size_t fin_queue_head;
    int in_finalizers;

    /* trigger and statistics */
    uint64_t since_gc;  /* bytes claimed since the last collection, less explicit frees */
    uint64_t claimed;   /* bytes claimed since the last collection */
    uint64_t threshold; /* collect when since_gc reaches it */
    uint64_t gc_count;
    uint64_t live_kind[MW__GC_KINDS]; /* live bytes found by the last collection, by kind */
    mw_gc_stats_t stats;
    mw_gc_oom_fn oom;
    int collecting;

    /* thread.c: the lock holder's cancellation state, threads started by mw_gc_pthread_create */
    int lock_cancel;
    struct mw__gc_vec exits; /* struct mw__gc_exit_rec */
    /* mark.c: parallel marking */
    struct mw__gc_markers mk;
};

/* Hidden: reached without a GOT load even in the shared library. */
extern struct mw__gc_state mw__gc __attribute__((visibility("hidden")));
extern __thread struct mw__gc_thread *mw__gc_self
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Bits set in x (SWAR: x86-64's baseline has no popcnt instruction, and the compiler's fallback
 * is a library call). */
static inline unsigned mw__gc_popcount(uint64_t x)
{
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* ---- lookup ---------------------------------------------------------------------------------- */

static inline uintptr_t mw__gc_entry(uintptr_t v)
{
    uintptr_t *l2 = mw__gc.l1[v >> MW__GC_L1_SHIFT];
    return l2 ? l2[(v >> MW__GC_CHUNK_SHIFT) & (MW__GC_L2_SIZE - 1)] : 0;
}

/* Where the collector keeps the facts about one object. */
struct mw__gc_ref {
    uintptr_t start;
    uintptr_t size;
    uint64_t *alloc; /* the word holding its alloc bit; the mark bit is at alloc + 4 */
    uint64_t mask;
    struct mw__gc_chunk *chunk;
    struct mw__gc_pd *pd; /* NULL for huge */
    unsigned slot;
    int atomic;
};

/* Finds the allocated object containing v. Returns 1 and fills *r, or 0. */
int mw__gc_find(uintptr_t v, struct mw__gc_ref *r);
/* The same, without the slots a cursor holds (freed ones among them, whose alloc bit stays set
 * until they are handed out again): what the program may still use. Lock held. */
int mw__gc_find_live(uintptr_t v, struct mw__gc_ref *r);

static inline uintptr_t mw__gc_block_addr(struct mw__gc_normal *n, unsigned head)
{
    return (uintptr_t)n + ((uintptr_t)head << MW__GC_PAGE_SHIFT);
}

/* The alloc word of 64-slot group g of the block whose first page is head; its mark word is the
 * fourth word after it. */
static inline uint64_t *mw__gc_group(struct mw__gc_normal *n, unsigned head, unsigned g)
{
    return &n->bits[head + (g >> 2)][g & 3];
}

static inline struct mw__gc_normal *mw__gc_chunk_of(uintptr_t addr)
{
    return (struct mw__gc_normal *)(addr & ~(MW__GC_CHUNK - 1));
}

static inline unsigned mw__gc_page_of(uintptr_t addr)
{
    return (unsigned)((addr >> MW__GC_PAGE_SHIFT) & (MW__GC_CHUNK_PAGES - 1));
}

/* The first page after the block or free run holding page p, for walks over a chunk that free
 * blocks as they go: a page that stopped being a head by a merge still leads to the right end
 * (the tail of a run, and a merged head, keep the run's head and length). */
static inline unsigned mw__gc_next_head(const struct mw__gc_normal *n, unsigned p)
{
    unsigned next = (unsigned)n->pd[p].head + n->pd[p].npages;
    return next > p ? next : p + 1;
}

/* ---- black-listing --------------------------------------------------------------------------- */
/* As Boehm GC does: a candidate pointer the mark loop meets in a free page (a stale pointer, or an
 * integer that looks like one) would keep alive whatever is placed there next, so the page is
 * black-listed and new blocks that such a pointer would pin avoid it (mw__gc_pages_alloc), until
 * a collection finds no such pointer. The mark of collection number c is mw__gc_bl_epoch(c); a
 * page is black-listed while its mark is that of the last collection. */
static inline uint8_t mw__gc_bl_epoch(uint64_t collection)
{
    return (uint8_t)(collection % 255 + 1);
}

/* The candidate-miss path of the mark loop: v points into a page of normal chunk n that holds no
 * block. Safe from several markers at once (they all store the same byte). */
static inline void mw__gc_black_list(struct mw__gc_normal *n, uintptr_t v)
{
    __atomic_store_n(&n->bl[mw__gc_page_of(v)], mw__gc.bl_epoch, __ATOMIC_RELAXED);
}

/* A candidate pointer v met a huge mapping c: whether it keeps the object alive (and, for a freed
 * mapping kept reserved, black-lists it). */
static inline int mw__gc_huge_hit(struct mw__gc_chunk *c, uintptr_t v)
{
    if (!(c->bits[0] & 1)) {
        __atomic_store_n(&c->bl, mw__gc.bl_epoch, __ATOMIC_RELAXED);
        return 0;
    }
    return v >= c->obj && v - c->obj < (c->flags & MW__GC_OFF_PAGE ? MW__GC_PAGE : c->obj_size);
}

/* ---- os.c ------------------------------------------------------------------------------------ */
void *mw__gc_os_map(size_t size, size_t align);
void mw__gc_os_unmap(void *p, size_t size);
void mw__gc_os_release(void *p, size_t size);
/* Gives the memory of [p, p + size) back and leaves the range reserved, inaccessible. */
void mw__gc_os_reserve(void *p, size_t size);
void mw__gc_os_label(void *p, size_t size);
int mw__gc_vec_reserve(struct mw__gc_vec *v, size_t elem, size_t n);
void mw__gc_vec_free(struct mw__gc_vec *v, size_t elem);
#define MW__GC_VEC_AT(v, type, i) (((type *)(v)->data)[i])
int mw__gc_table_set(uintptr_t lo, size_t size, uintptr_t entry);
void mw__gc_table_clear(uintptr_t lo, size_t size);
uint64_t mw__gc_now_ns(void);
void mw__gc_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void mw__gc_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- pages.c --------------------------------------------------------------------------------- */
/* Finds npages free pages (a new chunk if needed) whose first check pages are not black-listed
 * (0: any will do), unless that would grow the heap too much. *zeroed tells whether all of them
 * are zero. Returns the first page's address or 0 (heap limit or OS refusal). */
uintptr_t mw__gc_pages_alloc(unsigned npages, unsigned check, int *zeroed);
void mw__gc_pages_free(struct mw__gc_normal *n, unsigned first, unsigned npages);
/* Gives back to the OS the free runs idle for unmap_after collections; unmaps empty chunks. */
void mw__gc_pages_trim(void);
uintptr_t mw__gc_huge_map(size_t size, int atomic, int off_page);
/* Frees a huge object: its mapping is kept a while for reuse (see pages.c) or unmapped. */
void mw__gc_huge_free(struct mw__gc_chunk *c);
uint64_t mw__gc_heap_bytes(void);
int mw__gc_pages_check(void);

/* ---- alloc.c --------------------------------------------------------------------------------- */
void *mw__gc_alloc_slow(size_t n, int kind);
void mw__gc_cursor_release(struct mw__gc_cursor *c, int unclaim);
void mw__gc_sweep_block(struct mw__gc_normal *n, unsigned head);
/* Lists a block with free slots for the cursors of its kind and class (sets MW__GC_LISTED). */
void mw__gc_sweep_push(int kind, unsigned cls, uintptr_t block);
/* Bytes of the slots claimed but not yet handed out by every cursor. */
uint64_t mw__gc_reserved_bytes(void);
void mw__gc_init_classes(void);

/* ---- mark.c ---------------------------------------------------------------------------------- */
void mw__gc_mark_range(uintptr_t lo, uintptr_t hi);
/* Pushes a root range for the mark phase of mw__gc_mark_roots (marked with the other roots,
 * in parallel when the collection uses helpers). */
void mw__gc_push_root(uintptr_t lo, uintptr_t hi);
int mw__gc_mark_object(uintptr_t v, int count);
void mw__gc_mark_drain(void);
void mw__gc_mark_roots(struct mw__gc_thread *self);
void mw__gc_mark_reserved(void);
void mw__gc_mark_finish_overflow(void);
void mw__gc_roots_snapshot(void);
/* Before the world stops: starts the helper markers this collection wants (thread creation may
 * take locks a stopped thread holds). */
void mw__gc_markers_prepare(void);
/* In a forked child: the helpers did not follow. */
void mw__gc_markers_forget(void);

/* ---- stack.c --------------------------------------------------------------------------------- */
/* Pushes the stack of thread t, whose stack pointer is sp, as roots (see mw__scan_stack_ranges). */
void mw__gc_mark_stack(struct mw__gc_thread *t, uintptr_t sp);

/* ---- collect.c ------------------------------------------------------------------------------- */
void mw__gc_collect_locked(const char *why);
/* Collects (when due, or always with force) with the stack scan starting at this call's frame. */
void mw__gc_collect_entry(const char *why, int force);
void mw__gc_collect_if_due(void);

/* ---- finalize.c ------------------------------------------------------------------------------ */
void mw__gc_finalize_mark(void);
void mw__gc_finalize_forget(uintptr_t obj);
int mw__gc_finalize_has(uintptr_t obj);
void mw__gc_run_finalizers(void);
int mw__gc_queue_holds(uintptr_t lo, uintptr_t hi);

/* ---- thread.c -------------------------------------------------------------------------------- */
struct mw__gc_thread *mw__gc_attach(void);
void mw__gc_lock(void);
void mw__gc_unlock(void);
/* Stops every other registered thread (their stop_sp set); never waits forever (see thread.c). */
void mw__gc_stop_world(void);
void mw__gc_start_world(void);
void mw__gc_threads_init(void);

/* ---- options.c ------------------------------------------------------------------------------- */
void mw__gc_options_read(struct mw__gc_options *o);
void mw__gc_init(void);
int mw__gc_heap_contains(const void *addr);

/* ---- addrmap.c: address -> word tables for the API's side tables ---------------------------- */
/* Open addressing in mmap'd memory (never a root by itself). Keys are addresses > 1; 0 marks an
 * empty slot, 1 a deleted one. Lock held for every call. */
struct mw__gc_pair {
    uintptr_t key, val;
};

struct mw__gc_map {
    struct mw__gc_pair *slot;
    size_t cap;   /* slots, a power of two (0 before the first insertion) */
    size_t used;  /* slots not empty: live and deleted */
    size_t count; /* live keys */
};

#define MW__GC_MAP_DELETED ((uintptr_t)1)

/* The pair of key, or NULL. */
struct mw__gc_pair *mw__gc_map_find(const struct mw__gc_map *m, uintptr_t key);
/* The pair of key, added with val 0 when missing (*added says which); NULL when out of memory.
 * Pointers to pairs are invalid after an addition. */
struct mw__gc_pair *mw__gc_map_put(struct mw__gc_map *m, uintptr_t key, int *added);
void mw__gc_map_del(struct mw__gc_map *m, struct mw__gc_pair *p);

/* ---- uncollectable.c: objects that are roots until freed ------------------------------------- */
/* Lock held. Whether obj (an object start) is uncollectable; forgets it (mw_gc_free); marks every
 * uncollectable object and what it reaches (a collection, after the roots). */
int mw__gc_uncollectable_has(uintptr_t obj);
void mw__gc_uncollectable_forget(uintptr_t obj);
void mw__gc_uncollectable_mark(void);
/* The table itself, a root range (empty when there is none): marking pushes it with the other
 * roots, so what uncollectable objects reach is marked in parallel too. */
void mw__gc_uncollectable_range(uintptr_t *lo, uintptr_t *hi);

/* ---- weak.c: weak links ---------------------------------------------------------------------- */
/* During a collection, after marking: phase 0 (before finalization) clears the links whose object
 * is unmarked; phase 1 (after) clears the long ones and forgets the links held by dead objects. */
void mw__gc_weak_clear(int phase);

/* ---- control.c: collect-every, warnings ------------------------------------------------------ */
/* Called by each allocation that reaches the slow path while MEMWALK_GC_COLLECT_EVERY is set. */
void mw__gc_every_tick(void);
/* The handler of mw_gc_set_warn_handler, or NULL. */
extern mw_gc_warn_fn mw__gc_warn_handler __attribute__((visibility("hidden")));

static inline struct mw__gc_thread *mw__gc_me(void)
{
    struct mw__gc_thread *t = mw__gc_self;
    return MW__GC_LIKELY(t != NULL) ? t : mw__gc_attach();
}

#endif
