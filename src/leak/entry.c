/* The allocator entry points the preload interposes: C's, glibc's __libc_* twins that a program
 * may call directly, and C++'s operator new and delete in every variant; they forward to the next
 * definition (normally glibc's) found with dlsym(RTLD_NEXT).
 *
 * Why RTLD_NEXT rather than glibc's __libc_malloc family: a program linked with another
 * allocator (jemalloc, tcmalloc) keeps it, so memory is always freed by the allocator that gave
 * it; and malloc_usable_size has no __libc_ twin.
 *
 * Every entry point marks its thread busy (mw__enter) before it touches a table or the real
 * allocator, and passes the gate, whatever the path: tracked, untracked, realloc(p, 0), nested.
 * A nested call (from the unwinder, from libc calls the tracer makes) is forwarded untracked. */
#include "leak/leak.h"
#include "leak/profile.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <unistd.h>

/* True when the call the thread just entered is tracked. */
static inline __attribute__((always_inline)) int tracking(struct mw__leak_thread *self)
{
    if (__builtin_expect(mw__leak_state != MW__ON || self->busy != 1, 0)) {
        if (mw__leak_state == MW__OFF && self->busy == 1)
            mw__leak_start();
        if (mw__leak_state != MW__ON || self->busy != 1)
            return 0;
    }
    if (__builtin_expect(!mw__leak_mt, 0) && !__libc_single_threaded)
        mw__leak_mt = 1;
    if (__builtin_expect(!self->inited, 0))
        mw__leak_thread_init(self);
    return 1;
}

/* The stack of the hook whose frame is fp, interned. */
static inline __attribute__((always_inline)) uint32_t stack_id(struct mw__leak_thread *self,
                                                               uintptr_t pc, uintptr_t *fp)
{
    return mw__unwind_trace(self, pc, fp[1], (uintptr_t)(fp + 2), fp[0]);
}

/* The allocator's memory for a block of n bytes at offset off (MW__HDR, or the alignment) with
 * MW__TAIL spare bytes after it, zeroed when zero; NULL with errno set when there is none. */
static inline __attribute__((always_inline)) void *real_alloc(size_t off, size_t n, int zero)
{
    size_t total;
    void *real;

    if (__builtin_add_overflow(n, off + MW__TAIL, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (off == MW__HDR)
        real = zero ? mw__real.calloc(1, total) : mw__real.malloc(total);
    else
        real = mw__real.memalign(off, total);
    if (real && zero && off != MW__HDR)
        memset(real, 0, total);
    return real;
}

/* Untracked allocation (tracing off, or a call nested in the tracer). While tracing is on, the
 * block gets a plain header: free knows it for one the tracer handed out, not a bad pointer. */
static void *plain_alloc(size_t align, size_t n, int zero)
{
    size_t off;
    void *real;

    if (!mw__real.malloc) {
        mw__leak_start();
        if (!mw__real.malloc || !mw__real.calloc || !mw__real.memalign)
            return mw__pool_alloc(n, align); /* the pool is zeroed and never reused */
    }
    if (mw__leak_state != MW__ON) {
        if (align > 16)
            return mw__real.memalign(align, n);
        return zero ? mw__real.calloc(1, n) : mw__real.malloc(n);
    }
    off = align <= MW__HDR ? MW__HDR : align;
    real = real_alloc(off, n, zero);
    return real ? mw__blocks_plain(real, off, n) : NULL;
}

/* An allocation from the thread's scratch (see struct mw__leak_thread): its size sits in the 8
 * bytes before it, as in the pool. NULL when the scratch is full. */
static void *scratch_alloc(struct mw__leak_thread *self, size_t align, size_t n, int zero)
{
    size_t start;

    if (align < 16)
        align = 16;
    start = (self->scratch_used + 16 + align - 1) & ~(align - 1);
    if (align > MW__SCRATCH || n > MW__SCRATCH || start + n > MW__SCRATCH)
        return NULL;
    self->scratch_used = (unsigned)(start + n);
    memcpy(self->scratch + start - 8, &n, sizeof n);
    if (zero)
        memset(self->scratch + start, 0, n);
    return self->scratch + start;
}

/* Untracked allocation: from the scratch while the tracer's own call runs, else plain. */
static void *untracked_alloc(struct mw__leak_thread *self, size_t align, size_t n, int zero)
{
    void *p;

    if (__builtin_expect(self->scratch_on, 0) && (p = scratch_alloc(self, align, n, zero)))
        return p;
    return plain_alloc(align, n, zero);
}

/* The tracked allocation shared by every entry point: n bytes aligned to align (a power of
 * two), zeroed when zero; fp/pc name the entry point for the stack. */
static inline __attribute__((always_inline)) void *
alloc(struct mw__leak_thread *self, size_t align, size_t n, int zero, unsigned kind, uint32_t trace)
{
    size_t off = align <= MW__HDR ? MW__HDR : align;
    /* MW__TAIL spare bytes keep the next chunk's header, which the allocator's own state
     * points at, out of [p, p + n): memcheck has no such pointers, so neither may we. */
    void *real = real_alloc(off, n, zero);

    return real ? mw__blocks_add(self, real, off, n, trace, kind) : NULL;
}

/* One allocating entry point of family kind: tracked when it may be, untracked otherwise; pc is
 * frame 0. */
#define ALLOC_BODY_KIND(align, n, zero, kind, pc)                          \
    ({                                                                     \
        struct mw__leak_thread *self_ = mw__leak_me();                     \
        void *p_;                                                          \
        mw__enter(self_);                                                  \
        if (__builtin_expect(tracking(self_), 1))                          \
            p_ = alloc(self_, (align), (n), (zero), (kind),                \
                       stack_id(self_, (pc), __builtin_frame_address(0))); \
        else                                                               \
            p_ = untracked_alloc(self_, (align), (n), (zero));             \
        mw__leave(self_);                                                  \
        p_;                                                                \
    })
#define ALLOC_BODY_AT(align, n, zero, pc) ALLOC_BODY_KIND(align, n, zero, MW__ALLOC_MALLOC, pc)
#define ALLOC_BODY(align, n, zero)        ALLOC_BODY_AT(align, n, zero, HERE())
/* glibc's __libc_* twins show as the standard function in frame 0, as memcheck names them: its
 * hidden alias (below) is its own address, where (uintptr_t)fn may be a program's PLT entry. */
#define AS(fn) ((uintptr_t)mw__##fn##_here + 1)

void mw__leak_release(struct mw__leak_thread *t, void *p, int real)
{
    struct mw__blkinfo b;

    if (mw__in_scratch(t, p))
        return; /* (reused at the next use of the scratch) */
    switch (mw__blocks_state(p, &b)) {
    case MW__BLK_LIVE:
        /* No stack here (the caller is nested in the tracer, or tracing is over), and no queue:
         * its lock may be held by the code this call interrupted. */
        b.free_trace = 0;
        if (mw__blocks_release(t, p, &b) && real) {
            mw__blocks_forget(p);
            mw__real.free(b.real);
        }
        return;
    case MW__BLK_PLAIN:
        if (real)
            mw__real.free(b.real);
        return;
    case MW__BLK_FREED:
        /* Released twice: never the allocator's to see. */
        if (mw__leak_state == MW__ON)
            mw__errors_nested(t, p, &b);
        return;
    default:
        break;
    }
    if (!real)
        return;
    if (!mw__real.free)
        mw__leak_start();
    if (mw__real.free)
        mw__real.free(p);
}

/* A tracked release of p (how: MW__REL_*) made by thread owner, whose header says st; where:
 * the call's stack; fp: the release function's frame, NULL when batched; nested: see
 * mw__errors_release. A live
 * block of the right family is released (its header turns freed, so a second release is seen)
 * and returned for the queue; anything else is reported, and dropped unless it is a mismatch
 * (NULL is returned). */
static void *release(struct mw__leak_thread *self, struct mw__leak_thread *owner, void *p,
                     unsigned how, int st, struct mw__blkinfo *b, uint32_t where, uintptr_t *fp,
                     int nested)
{
    if (__builtin_expect(st == MW__BLK_LIVE && !mw__errors_mismatch(how, b), 1)) {
        b->free_trace = where;
        if (__builtin_expect(mw__blocks_release(self, p, b), 1))
            return p;
        /* Another thread released it first, a moment ago: a double free. The block may have
         * gone back to the allocator since and even be handed out again (its header then reads
         * live or plain): it is described from the freed-block queue, never released again. */
        if ((st = mw__blocks_state(p, b)) != MW__BLK_FREED)
            st = MW__BLK_NONE;
    }
    if (st == MW__BLK_PLAIN) {
        /* Handed out untracked (nested in the tracer): the allocator's. */
        if (!nested)
            mw__real.free(b->real);
        return NULL;
    }
    if (mw__errors_release(owner, p, how, st, b, where, fp, nested)) {
        b->free_trace = where;
        return mw__blocks_release(self, p, b) ? p : NULL;
    }
    mw__blocks_count_invalid(self, 0, 0);
    return NULL;
}

/* The thread's batch size. A batch costs the program time of its own: a block the program frees
 * goes back to the allocator only when its batch does, so the allocator cannot hand it out again
 * at once, warm, as it would without the tracer (sqlite3 frees and allocates blocks of the same
 * sizes by turns). Batching pays where the blocks' lines are far (a program freeing old blocks
 * at random: alloc_heavy). So a full batch now and then times the load of its first block's
 * slot: the batch doubles to MW__DEFER when that line was far, halves down to 1 (a free checked
 * and passed on at once) when it was near. The probe stalls the processor (its fences): every
 * 8th batch while the size moves, up to every 256th while the probes keep saying what the size
 * already says.
 * On sqlite3 building 100,000 rows the batches stay at their least (161,000 probes near, 57 far,
 * when every 8th probed), on alloc_heavy mostly at 32 (4,608 far of 5,753). Under memwalk heap,
 * CPU time against native (pair medians of interleaved runs): sqlite3 1.545x with batches of 32,
 * 1.499x sized down to 2 (21 runs), 1.538x and 1.495x down to 2 and to 1 (21 more: the machine
 * had slowed); alloc_heavy 1.385x with batches of 32 and 1.338x sized (7), 1.355x and 1.351x
 * down to 2 and to 1 (9). */
static inline unsigned batch_of(const struct mw__leak_thread *t)
{
    return t->batch ? t->batch : MW__DEFER;
}

/* Counts a full batch; 1 when it is the one to probe. */
static inline int probe_due(struct mw__leak_thread *t)
{
    return !(++t->batches & (t->probe_gap | 7));
}

static void batch_size(struct mw__leak_thread *t, uint32_t slot)
{
    unsigned n = batch_of(t), m = n;

    switch (mw__blocks_slot_cold(slot)) {
    case 1:
        m = MW__DEFER;
        break;
    case 0:
        m = n > 1 ? n / 2 : 1;
        break;
    default:
        t->probe_gap = 255; /* (no time stamps: batches of MW__DEFER) */
        return;
    }
    t->batch = m;
    t->probe_gap = m != n ? 7 : (t->probe_gap | 7) < 255 ? (t->probe_gap | 7) * 2 + 1 : 255;
}

void mw__leak_flush(struct mw__leak_thread *self, struct mw__leak_thread *t, int real)
{
    unsigned i = 0, k, n = t->ndefer;
    void *keep[MW__DEFER];
    const struct mw__blkinfo *keepb[MW__DEFER];
    struct mw__blkinfo b[MW__DEFER];
    int st[MW__DEFER];

    mw__enter(self); /* a stop request waits until the slot lists are consistent */
    if (t == self && n == batch_of(t) && probe_due(t) && t->defer[0].how != MW__REL_DONE) {
        /* Its first header alone, then how far its slot was. */
        st[0] = mw__blocks_state(t->defer[0].p, &b[0]);
        if (st[0] == MW__BLK_LIVE) {
            batch_size(t, b[0].slot);
            mw__blocks_prefetch_slot(b[0].slot);
        }
        i = 1;
    }
    /* Three passes, so that the headers, then the slots, load in parallel (a batched pointer
     * passed mw__blocks_maybe; a prefetch never faults). */
    for (k = i; k < n; k++)
        if (t->defer[k].how != MW__REL_DONE)
            __builtin_prefetch((char *)t->defer[k].p - MW__HDR, 1);
    for (; i < n; i++) {
        st[i] =
            t->defer[i].how == MW__REL_DONE ? MW__BLK_NONE : mw__blocks_state(t->defer[i].p, &b[i]);
        if (st[i] == MW__BLK_LIVE)
            mw__blocks_prefetch_slot(b[i].slot);
    }
    k = 0;
    t->ndefer = 0; /* (before: the heap profile takes these frees as done, not batched) */
    for (i = 0; i < n; i++) {
        struct mw__deferred *d = &t->defer[i];
        void *p;
        if (__builtin_expect(t->prof_due != 0, 0) && i + 1 >= t->prof_due)
            mw__prof_flush(t, i);
        if (real && k && st[i] != MW__BLK_LIVE && d->how != MW__REL_DONE) {
            /* A bad release is described from the queue: the batch's earlier frees go first. */
            mw__freelist_put(keep, keepb, k);
            k = 0;
        }
        p = d->how == MW__REL_DONE
                ? d->p
                : release(self, t, d->p, d->how, st[i], &b[i], d->where, NULL, !real);
        if (p) {
            keepb[k] = d->how == MW__REL_DONE ? NULL : &b[i];
            keep[k++] = p;
        }
    }
    if (__builtin_expect(t->prof_due != 0, 0))
        mw__prof_flush(t, n);
    if (real)
        mw__freelist_put(keep, keepb, k);
    mw__leave(self);
}

/* Adds a release to the thread's batch. */
static inline __attribute__((always_inline)) void defer(struct mw__leak_thread *self, void *p,
                                                        uint32_t where, unsigned how)
{
    struct mw__deferred *d = &self->defer[self->ndefer++];

    d->p = p;
    d->where = where;
    d->how = how;
    if (self->ndefer >= batch_of(self))
        mw__leak_flush(self, self, 1);
}

/* A batch of one, without the batch: checked, probed and passed on as the flush does. */
static void free_now(struct mw__leak_thread *self, void *p, uint32_t where, unsigned how)
{
    struct mw__blkinfo b;
    const struct mw__blkinfo *bp = &b;
    int st = mw__blocks_state(p, &b);

    if (st == MW__BLK_LIVE && probe_due(self))
        batch_size(self, b.slot);
    if ((p = release(self, self, p, how, st, &b, where, NULL, 0)) != NULL)
        mw__freelist_put(&p, &bp, 1);
}

/* Frees p (how: MW__REL_*); pc and fp name the entry point for the stack. The release is
 * batched: its header is checked with the batch's, loaded in parallel. A pointer that cannot be
 * the tracer's is reported at once, while its frames still exist (an address on the stack is
 * described by the frame that holds it). */
static inline __attribute__((always_inline)) void do_free(void *p, unsigned how, uintptr_t pc,
                                                          uintptr_t *fp)
{
    struct mw__leak_thread *self;

    if (!p || mw__in_pool(p))
        return;
    self = mw__leak_me();
    mw__enter(self);
    if (__builtin_expect(tracking(self), 1)) {
        /* A heap profile (memwalk heap) reports no bad frees: the free's stack is not needed. */
        uint32_t where = __builtin_expect(mw__prof_on, 0) ? 0 : stack_id(self, pc, fp);
        if (__builtin_expect(mw__blocks_maybe(p), 1)) {
            if (self->batch == 1 && !self->ndefer)
                free_now(self, p, where, how);
            else
                defer(self, p, where, how);
        } else {
            struct mw__blkinfo b = {0};
            if (self->ndefer) /* the batch's errors come first, as they happened */
                mw__leak_flush(self, self, 1);
            release(self, self, p, how, MW__BLK_NONE, &b, where, fp, 0);
        }
    } else {
        mw__leak_release(self, p, 1);
    }
    mw__leave(self);
}

#define FREE_BODY(p, how) do_free((p), (how), HERE(), __builtin_frame_address(0))

EXPORT void *malloc(size_t n)
{
    DISTINCT(malloc);
    return ALLOC_BODY(16, n, 0);
}

/* This malloc's own address: in a program built without PIE that takes malloc's address
 * (python3.11), (uintptr_t)malloc is the program's PLT entry. */
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-attributes" /* an alias, not a second declaration */
#endif
extern __typeof__(malloc) mw__malloc_here __attribute__((alias("malloc"), visibility("hidden")));
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

EXPORT void free(void *p)
{
    DISTINCT(free);
    FREE_BODY(p, MW__REL_FREE);
}

static inline __attribute__((always_inline)) int mul_size(size_t n, size_t size, size_t *total)
{
    if (__builtin_mul_overflow(n, size, total)) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

EXPORT void *calloc(size_t n, size_t size)
{
    DISTINCT(calloc);
    size_t total;

    if (mul_size(n, size, &total) < 0)
        return NULL;
    return ALLOC_BODY(16, total, 1);
}

/* 1 when p waits in the thread's batch of frees. */
static int pending(const struct mw__leak_thread *self, const void *p)
{
    unsigned i;

    for (i = 0; i < self->ndefer; i++)
        if (self->defer[i].p == p)
            return 1;
    return 0;
}

/* realloc nested in the tracer or with tracing off: no stack, no report. */
static void *untracked_realloc(struct mw__leak_thread *self, void *p, size_t n)
{
    struct mw__blkinfo b;
    size_t keep;
    void *q, *real;
    int st;

    if (mw__in_scratch(self, p)) {
        keep = mw__pool_size(p); /* (a scratch block is laid out as a pool one) */
        q = untracked_alloc(self, 16, n, 0);
        if (q)
            memcpy(q, p, keep < n ? keep : n);
        return q;
    }
    st = mw__blocks_state(p, &b);

    switch (st) {
    case MW__BLK_FREED:
        if (mw__leak_state == MW__ON)
            mw__errors_nested(self, p, &b);
        return NULL;
    case MW__BLK_LIVE:
    case MW__BLK_PLAIN:
        if (n == 0) {
            mw__leak_release(self, p, 1);
            return NULL;
        }
        if (b.off != MW__HDR || st == MW__BLK_PLAIN) {
            /* Aligned and plain blocks move to a new plain one. */
            q = plain_alloc(16, n, 0);
            if (q) {
                memcpy(q, p, b.size < n ? b.size : n);
                mw__leak_release(self, p, 1);
            }
            return q;
        }
        if (__builtin_add_overflow(n, (size_t)(MW__HDR + MW__TAIL), &keep)) {
            errno = ENOMEM;
            return NULL;
        }
        real = mw__real.realloc(b.real, keep);
        return real ? mw__blocks_move(self, real, &b, n, 0) : NULL;
    default:
        /* Not the tracer's: it stays with the allocator. */
        if (!mw__real.realloc)
            mw__leak_start();
        return mw__real.realloc ? mw__real.realloc(p, n) : NULL;
    }
}

/* realloc's logic, shared with reallocarray; fp and pc name the entry point. As memcheck's, a
 * realloc always moves the block while freed blocks are held (the old address then reads as
 * freed by this realloc); without the queue the allocator's realloc runs. */
static inline __attribute__((always_inline)) void *do_realloc(void *p, size_t n, uintptr_t pc,
                                                              uintptr_t *fp)
{
    struct mw__leak_thread *self;
    struct mw__blkinfo b;
    size_t keep;
    void *q, *real;
    uint32_t where;
    int st;

    if (p && mw__in_pool(p)) {
        keep = mw__pool_size(p);
        q = mw__malloc_here(n);
        if (q)
            memcpy(q, p, keep < n ? keep : n);
        return q;
    }
    self = mw__leak_me();
    mw__enter(self);
    if (!tracking(self)) {
        q = p ? untracked_realloc(self, p, n) : untracked_alloc(self, 16, n, 0);
        goto out;
    }
    if (!p) {
        /* realloc(NULL, n) is malloc(n): memcheck's stack says malloc, so does ours. */
        q = alloc(self, 16, n, 0, MW__ALLOC_MALLOC, stack_id(self, (uintptr_t)mw__malloc_here, fp));
        goto out;
    }
    where = stack_id(self, pc, fp);
    if (self->ndefer && pending(self, p))
        mw__leak_flush(self, self, 1); /* freed a moment ago: its release is checked first */
    st = mw__blocks_state(p, &b);
    if (st == MW__BLK_PLAIN) {
        /* A block handed out untracked: tracked from now on. */
        q = n ? alloc(self, 16, n, 0, MW__ALLOC_MALLOC, where) : NULL;
        if (q)
            memcpy(q, p, b.size < n ? b.size : n);
        if (q || !n)
            mw__real.free(b.real);
        goto out;
    }
    if (st != MW__BLK_LIVE || mw__errors_mismatch(MW__REL_REALLOC, &b)) {
        if (self->ndefer)
            mw__leak_flush(self, self, 1);
        if (!mw__errors_release(self, p, MW__REL_REALLOC, st, &b, where, fp, 0)) {
            /* memcheck returns NULL and counts an allocation and a free. */
            mw__blocks_count_invalid(self, 1, n);
            q = NULL;
            goto out;
        }
    }
    b.free_trace = where;
    if (n == 0) {
        /* glibc frees the block and returns NULL; memcheck counts one free. */
        if (mw__blocks_release(self, p, &b))
            defer(self, p, where, MW__REL_DONE);
        q = NULL;
    } else if (mw__freelist_holds() || b.off != MW__HDR) {
        q = alloc(self, 16, n, 0, MW__ALLOC_MALLOC, where);
        if (q) {
            memcpy(q, p, b.size < n ? b.size : n);
            if (mw__blocks_release(self, p, &b))
                defer(self, p, where, MW__REL_DONE);
        }
    } else if (__builtin_add_overflow(n, (size_t)(MW__HDR + MW__TAIL), &keep)) {
        errno = ENOMEM;
        q = NULL;
    } else {
        /* The allocator's own realloc: when it moves the block, the old address is freed. */
        uint32_t atrace = mw__blocks_slot_trace(b.slot);
        real = mw__real.realloc(b.real, keep);
        q = real ? mw__blocks_move(self, real, &b, n, where) : NULL;
        if (q && q != p)
            mw__freelist_note((uintptr_t)p, b.size, where, atrace);
    }
out:
    mw__leave(self);
    return q;
}

EXPORT void *realloc(void *p, size_t n)
{
    DISTINCT(realloc);
    return do_realloc(p, n, HERE(), __builtin_frame_address(0));
}

EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    DISTINCT(reallocarray);
    size_t total;

    if (mul_size(n, size, &total) < 0)
        return NULL;
    return do_realloc(p, total, HERE(), __builtin_frame_address(0));
}

static inline int pow2(size_t a)
{
    return a && !(a & (a - 1));
}

/* glibc rounds an alignment that is not a power of two up to one. */
static inline size_t round_align(size_t align)
{
    while (!pow2(align) && align < ((size_t)1 << 62))
        align = align ? (size_t)1 << (64 - __builtin_clzll(align)) : 1;
    return align;
}

EXPORT void *memalign(size_t align, size_t n)
{
    DISTINCT(memalign);
    align = round_align(align);
    return ALLOC_BODY(align, n, 0);
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    DISTINCT(aligned_alloc);
    if (!pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return ALLOC_BODY(align, n, 0);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    DISTINCT(posix_memalign);
    int saved = errno;
    void *p;

    if (align < sizeof(void *) || !pow2(align))
        return EINVAL;
    p = ALLOC_BODY(align, n, 0);
    if (!p) {
        errno = saved;
        return ENOMEM;
    }
    *out = p;
    return 0;
}

EXPORT void *valloc(size_t n)
{
    DISTINCT(valloc);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    return ALLOC_BODY(page, n, 0);
}

EXPORT void *pvalloc(size_t n)
{
    DISTINCT(pvalloc);
    size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded;

    if (__builtin_add_overflow(n, page - 1, &rounded)) {
        errno = ENOMEM;
        return NULL;
    }
    rounded &= ~(page - 1);
    if (!rounded)
        rounded = page;
    return ALLOC_BODY(page, rounded, 0);
}

EXPORT size_t malloc_usable_size(void *p)
{
    DISTINCT(malloc_usable_size);
    struct mw__blkinfo b;

    if (!p)
        return 0;
    if (mw__in_pool(p))
        return mw__pool_size(p);
    if (!mw__real.malloc_usable_size)
        mw__leak_start();
    if (!mw__real.malloc_usable_size)
        return 0;
    switch (mw__blocks_state(p, &b)) {
    case MW__BLK_LIVE:
    case MW__BLK_PLAIN:
        return mw__real.malloc_usable_size(b.real) - b.off;
    case MW__BLK_FREED:
        return 0;
    default:
        return mw__real.malloc_usable_size(p);
    }
}

/* Hidden aliases of the standard entry points: their own addresses for the stacks of their
 * __libc_* twins, and calls between entry points that go straight to this file's code (through
 * the PLT they could reach another definition). */
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-attributes"
#endif
#define HIDDEN_ALIAS(fn) \
    extern __typeof__(fn) mw__##fn##_here __attribute__((alias(#fn), visibility("hidden")))
HIDDEN_ALIAS(free);
HIDDEN_ALIAS(calloc);
HIDDEN_ALIAS(realloc);
HIDDEN_ALIAS(memalign);
HIDDEN_ALIAS(valloc);
HIDDEN_ALIAS(pvalloc);
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* ---- glibc's own names, which a program may call directly (memcheck replaces them too) ----- */
EXPORT void *__libc_malloc(size_t n)
{
    DISTINCT(__libc_malloc);
    return ALLOC_BODY_AT(16, n, 0, AS(malloc));
}

EXPORT void __libc_free(void *p)
{
    DISTINCT(__libc_free);
    do_free(p, MW__REL_FREE, AS(free), __builtin_frame_address(0));
}

EXPORT void *__libc_calloc(size_t n, size_t size)
{
    DISTINCT(__libc_calloc);
    size_t total;

    if (mul_size(n, size, &total) < 0)
        return NULL;
    return ALLOC_BODY_AT(16, total, 1, AS(calloc));
}

EXPORT void *__libc_realloc(void *p, size_t n)
{
    DISTINCT(__libc_realloc);
    return do_realloc(p, n, AS(realloc), __builtin_frame_address(0));
}

EXPORT void *__libc_memalign(size_t align, size_t n)
{
    DISTINCT(__libc_memalign);
    align = round_align(align);
    return ALLOC_BODY_AT(align, n, 0, AS(memalign));
}

EXPORT void *__libc_valloc(size_t n)
{
    DISTINCT(__libc_valloc);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    return ALLOC_BODY_AT(page, n, 0, AS(valloc));
}

EXPORT void *__libc_pvalloc(size_t n)
{
    DISTINCT(__libc_pvalloc);
    return mw__pvalloc_here(n);
}

/* ---- C++: operator new and delete, so that stacks start at operator new as memcheck's do ---
 * The names are the Itanium ABI's (size_t is unsigned long: m). On failure the real operator
 * runs, so the new_handler loop and std::bad_alloc stay libstdc++'s own. */
typedef struct {
    int unused;
} mw__nothrow_t;

static void *cxx_fail(size_t n, size_t align, int nothrow)
{
    if (nothrow)
        return NULL; /* what the nothrow versions return once the allocator has failed */
    if (align > 16 && mw__real.cxx_new_aligned)
        return mw__real.cxx_new_aligned(n, align);
    if (mw__real.cxx_new)
        return mw__real.cxx_new(n);
    return NULL;
}

#define NEW_BODY(align, n, nothrow, kind)                                                \
    ({                                                                                   \
        void *p_ = ALLOC_BODY_KIND((align) < 16 ? 16 : (align), (n), 0, (kind), HERE()); \
        if (__builtin_expect(!p_, 0))                                                    \
            p_ = cxx_fail((n), (align), (nothrow));                                      \
        p_;                                                                              \
    })

EXPORT void *_Znwm(size_t n) /* operator new(unsigned long) */
{
    DISTINCT(_Znwm);
    return NEW_BODY(16, n, 0, MW__ALLOC_NEW);
}

EXPORT void *_Znam(size_t n) /* operator new[](unsigned long) */
{
    DISTINCT(_Znam);
    return NEW_BODY(16, n, 0, MW__ALLOC_NEW_ARRAY);
}

EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const mw__nothrow_t *nt)
{
    DISTINCT(_ZnwmRKSt9nothrow_t);
    (void)nt;
    return NEW_BODY(16, n, 1, MW__ALLOC_NEW);
}

EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const mw__nothrow_t *nt)
{
    DISTINCT(_ZnamRKSt9nothrow_t);
    (void)nt;
    return NEW_BODY(16, n, 1, MW__ALLOC_NEW_ARRAY);
}

EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t align)
{
    DISTINCT(_ZnwmSt11align_val_t);
    return NEW_BODY(round_align(align), n, 0, MW__ALLOC_NEW);
}

EXPORT void *_ZnamSt11align_val_t(size_t n, size_t align)
{
    DISTINCT(_ZnamSt11align_val_t);
    return NEW_BODY(round_align(align), n, 0, MW__ALLOC_NEW_ARRAY);
}

EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const mw__nothrow_t *nt)
{
    DISTINCT(_ZnwmSt11align_val_tRKSt9nothrow_t);
    (void)nt;
    return NEW_BODY(round_align(align), n, 1, MW__ALLOC_NEW);
}

EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const mw__nothrow_t *nt)
{
    DISTINCT(_ZnamSt11align_val_tRKSt9nothrow_t);
    (void)nt;
    return NEW_BODY(round_align(align), n, 1, MW__ALLOC_NEW_ARRAY);
}

/* operator delete and delete[] in every variant: the header knows the size and alignment, so
 * the extra parameters (size, alignment, nothrow) change nothing here. */
#define DELETE_ENTRY(sym, how, ...)         \
    EXPORT void sym(void *p, ##__VA_ARGS__) \
    {                                       \
        DISTINCT(sym);                      \
        FREE_BODY(p, how);                  \
    }
#define UNUSED __attribute__((unused))
DELETE_ENTRY(_ZdlPv, MW__REL_DELETE)
DELETE_ENTRY(_ZdaPv, MW__REL_DELETE_ARRAY)
DELETE_ENTRY(_ZdlPvm, MW__REL_DELETE, UNUSED size_t n)
DELETE_ENTRY(_ZdaPvm, MW__REL_DELETE_ARRAY, UNUSED size_t n)
DELETE_ENTRY(_ZdlPvRKSt9nothrow_t, MW__REL_DELETE, UNUSED const mw__nothrow_t *nt)
DELETE_ENTRY(_ZdaPvRKSt9nothrow_t, MW__REL_DELETE_ARRAY, UNUSED const mw__nothrow_t *nt)
DELETE_ENTRY(_ZdlPvSt11align_val_t, MW__REL_DELETE, UNUSED size_t align)
DELETE_ENTRY(_ZdaPvSt11align_val_t, MW__REL_DELETE_ARRAY, UNUSED size_t align)
DELETE_ENTRY(_ZdlPvmSt11align_val_t, MW__REL_DELETE, UNUSED size_t n, UNUSED size_t align)
DELETE_ENTRY(_ZdaPvmSt11align_val_t, MW__REL_DELETE_ARRAY, UNUSED size_t n, UNUSED size_t align)
DELETE_ENTRY(_ZdlPvSt11align_val_tRKSt9nothrow_t, MW__REL_DELETE, UNUSED size_t align,
             UNUSED const mw__nothrow_t *nt)
DELETE_ENTRY(_ZdaPvSt11align_val_tRKSt9nothrow_t, MW__REL_DELETE_ARRAY, UNUSED size_t align,
             UNUSED const mw__nothrow_t *nt)
#undef UNUSED

/* ---- the rest ------------------------------------------------------------------------------ */
/* dlclose may unmap code whose unwind rules are cached. */
EXPORT int dlclose(void *handle)
{
    DISTINCT(dlclose);
    int r;

    if (!mw__real.dlclose)
        mw__leak_start();
    if (!mw__real.dlclose)
        return -1;
    mw__modules_before_close();
    r = mw__real.dlclose(handle);
    mw__modules_after_close();
    mw__unwind_flush();
    return r;
}

/* A program may turn the time stamp counter off for itself (PR_SET_TSC: reading it then raises
 * SIGSEGV), which the batch-size probe reads: the probe stops first. The call itself is the
 * kernel's, as from the C library's prctl (a thin wrapper: the four words after the option go
 * to the system call, whatever the option uses). */
EXPORT int prctl(int option, ...)
{
    DISTINCT(prctl);
    unsigned long arg[4];
    va_list ap;
    unsigned i;

    va_start(ap, option);
    for (i = 0; i < 4; i++)
        arg[i] = va_arg(ap, unsigned long);
    va_end(ap);
    mw__blocks_prctl(option, arg[0]);
    return (int)mw__raw_syscall(SYS_prctl, option, (long)arg[0], (long)arg[1], (long)arg[2],
                                (long)arg[3], 0);
}

/* The program leaving through _exit/_Exit skips exit handlers; memcheck still reports. */
EXPORT void _exit(int status)
{
    DISTINCT(_exit);
    mw__exit_now(status);
    __builtin_unreachable();
}

EXPORT void _Exit(int status)
{
    DISTINCT(_Exit);
    mw__exit_now(status);
    __builtin_unreachable();
}
