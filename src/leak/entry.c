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

#include <errno.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

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

/* The current instruction address: frame 0 of every stack is the hook itself, as memcheck
 * shows its replacement function first. */
#if defined(__x86_64__)
#define HERE()                                            \
    ({                                                    \
        uintptr_t pc_;                                    \
        __asm__ volatile("lea 0(%%rip), %0" : "=r"(pc_)); \
        pc_;                                              \
    })
#else
#define HERE() ((uintptr_t)__builtin_return_address(0))
#endif

/* The stack of the hook whose frame is fp, interned. */
static inline __attribute__((always_inline)) uint32_t stack_id(struct mw__leak_thread *self,
                                                               uintptr_t pc, uintptr_t *fp)
{
    return mw__unwind_trace(self, pc, fp[1], (uintptr_t)(fp + 2), fp[0]);
}

/* Entry points with the same body would be folded into one by the compiler (identical code
 * folding), and frame 0 of a stack would then name the wrong one (operator new for new[],
 * __libc_malloc for malloc): a distinct empty asm statement keeps each its own. */
#define DISTINCT(name) __asm__ volatile("# " #name)

/* Untracked allocation (tracing off, or a call nested in the tracer). */
static void *plain_alloc(size_t align, size_t n, int zero)
{
    if (!mw__real.malloc) {
        mw__leak_start();
        if (!mw__real.malloc || !mw__real.calloc || !mw__real.memalign)
            return mw__pool_alloc(n, align); /* the pool is zeroed and never reused */
    }
    if (align > 16)
        return mw__real.memalign(align, n);
    return zero ? mw__real.calloc(1, n) : mw__real.malloc(n);
}

/* The tracked allocation shared by every entry point: n bytes aligned to align (a power of
 * two), zeroed when zero; fp/pc name the entry point for the stack. */
static inline __attribute__((always_inline)) void *
alloc(struct mw__leak_thread *self, size_t align, size_t n, int zero, uintptr_t pc, uintptr_t *fp)
{
    size_t off = align <= MW__HDR ? MW__HDR : align, total;
    void *real;

    /* MW__TAIL spare bytes keep the next chunk's header, which the allocator's own state
     * points at, out of [p, p + n): memcheck has no such pointers, so neither may we. */
    if (__builtin_add_overflow(n, off + MW__TAIL, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (off == MW__HDR)
        real = zero ? mw__real.calloc(1, total) : mw__real.malloc(total);
    else
        real = mw__real.memalign(off, total);
    if (!real)
        return NULL;
    if (zero && off != MW__HDR)
        memset(real, 0, total);
    return mw__blocks_add(self, real, off, n, stack_id(self, pc, fp));
}

/* One allocating entry point: tracked when it may be, untracked otherwise; pc is frame 0. */
#define ALLOC_BODY_AT(align, n, zero, pc)                                              \
    ({                                                                                 \
        struct mw__leak_thread *self_ = mw__leak_me();                                 \
        void *p_;                                                                      \
        mw__enter(self_);                                                              \
        if (__builtin_expect(tracking(self_), 1))                                      \
            p_ = alloc(self_, (align), (n), (zero), (pc), __builtin_frame_address(0)); \
        else                                                                           \
            p_ = plain_alloc((align), (n), (zero));                                    \
        mw__leave(self_);                                                              \
        p_;                                                                            \
    })
#define ALLOC_BODY(align, n, zero) ALLOC_BODY_AT(align, n, zero, HERE())
/* glibc's __libc_* twins show as the standard function in frame 0, as memcheck names them: its
 * hidden alias (below) is its own address, where (uintptr_t)fn may be a program's PLT entry. */
#define AS(fn) ((uintptr_t)mw__##fn##_here + 1)

void mw__leak_release(struct mw__leak_thread *t, void *p, int real)
{
    struct mw__blkinfo b;

    if (mw__blocks_lookup(p, &b)) {
        mw__blocks_release(t, p, &b);
        if (real && mw__freelist_on())
            mw__freelist_put(p, b.size, b.real);
        else if (real)
            mw__real.free(b.real);
        return;
    }
    if (!real)
        return;
    if (!mw__real.free)
        mw__leak_start();
    if (mw__real.free)
        mw__real.free(p);
}

void mw__leak_flush(struct mw__leak_thread *self, struct mw__leak_thread *t, int real)
{
    unsigned i, n = t->ndefer;

    mw__enter(self); /* a stop request waits until the slot lists are consistent */
    for (i = 0; i < n; i++)
        __builtin_prefetch((char *)t->defer[i] - MW__HDR);
    for (i = 0; i < n; i++)
        mw__leak_release(self, t->defer[i], real);
    t->ndefer = 0;
    mw__leave(self);
}

/* Frees p now or in the thread's batch. */
static inline __attribute__((always_inline)) void do_free(void *p)
{
    struct mw__leak_thread *self;

    if (!p || mw__in_pool(p))
        return;
    self = mw__leak_me();
    mw__enter(self);
    if (__builtin_expect(mw__leak_state == MW__ON && self->busy == 1, 1)) {
        self->defer[self->ndefer++] = p;
        if (self->ndefer == MW__DEFER)
            mw__leak_flush(self, self, 1);
    } else {
        mw__leak_release(self, p, 1);
    }
    mw__leave(self);
}

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
    do_free(p);
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

/* realloc's logic, shared with reallocarray; fp and pc name the entry point. */
static inline __attribute__((always_inline)) void *do_realloc(void *p, size_t n, uintptr_t pc,
                                                              uintptr_t *fp)
{
    struct mw__leak_thread *self;
    struct mw__blkinfo b;
    size_t keep;
    void *q, *real;
    int tracked;

    if (p && mw__in_pool(p)) {
        keep = mw__pool_size(p);
        q = mw__malloc_here(n);
        if (q)
            memcpy(q, p, keep < n ? keep : n);
        return q;
    }
    self = mw__leak_me();
    mw__enter(self);
    tracked = tracking(self);
    if (!p) {
        /* realloc(NULL, n) is malloc(n): memcheck's stack says malloc, so does ours. */
        q = tracked ? alloc(self, 16, n, 0, (uintptr_t)mw__malloc_here, fp) : plain_alloc(16, n, 0);
    } else if (!mw__blocks_lookup(p, &b)) {
        /* A block handed out untracked (before the start, by __libc_malloc's callers, or
         * nested): it stays with the allocator unless this call is tracked. */
        if (!mw__real.realloc)
            mw__leak_start();
        if (!tracked || n == 0) {
            q = mw__real.realloc ? mw__real.realloc(p, n) : NULL;
        } else {
            q = alloc(self, 16, n, 0, pc, fp);
            if (q) {
                keep = mw__real.malloc_usable_size ? mw__real.malloc_usable_size(p) : n;
                memcpy(q, p, keep < n ? keep : n);
                mw__real.free(p);
            }
        }
    } else if (n == 0) {
        /* glibc frees the block and returns NULL; memcheck counts one free. */
        mw__blocks_release(self, p, &b);
        mw__real.free(b.real);
        q = NULL;
    } else if (b.off != MW__HDR) {
        /* Aligned blocks move to a plain one, as a realloc may. */
        q = tracked ? alloc(self, 16, n, 0, pc, fp) : plain_alloc(16, n, 0);
        if (q) {
            memcpy(q, p, b.size < n ? b.size : n);
            mw__leak_release(self, p, 1);
        }
    } else if (__builtin_add_overflow(n, (size_t)(MW__HDR + MW__TAIL), &keep)) {
        errno = ENOMEM;
        q = NULL;
    } else if ((real = mw__real.realloc(b.real, keep)) == NULL) {
        q = NULL;
    } else {
        q = mw__blocks_move(self, real, &b, n, tracked ? stack_id(self, pc, fp) : 0);
    }
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
    if (mw__blocks_lookup(p, &b))
        return mw__real.malloc_usable_size(b.real) - b.off;
    return mw__real.malloc_usable_size(p);
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
    do_free(p);
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

#define NEW_BODY(align, n, nothrow)                                 \
    ({                                                              \
        void *p_ = ALLOC_BODY((align) < 16 ? 16 : (align), (n), 0); \
        if (__builtin_expect(!p_, 0))                               \
            p_ = cxx_fail((n), (align), (nothrow));                 \
        p_;                                                         \
    })

EXPORT void *_Znwm(size_t n) /* operator new(unsigned long) */
{
    DISTINCT(_Znwm);
    return NEW_BODY(16, n, 0);
}

EXPORT void *_Znam(size_t n) /* operator new[](unsigned long) */
{
    DISTINCT(_Znam);
    return NEW_BODY(16, n, 0);
}

EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const mw__nothrow_t *nt)
{
    DISTINCT(_ZnwmRKSt9nothrow_t);
    (void)nt;
    return NEW_BODY(16, n, 1);
}

EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const mw__nothrow_t *nt)
{
    DISTINCT(_ZnamRKSt9nothrow_t);
    (void)nt;
    return NEW_BODY(16, n, 1);
}

EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t align)
{
    DISTINCT(_ZnwmSt11align_val_t);
    return NEW_BODY(round_align(align), n, 0);
}

EXPORT void *_ZnamSt11align_val_t(size_t n, size_t align)
{
    DISTINCT(_ZnamSt11align_val_t);
    return NEW_BODY(round_align(align), n, 0);
}

EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const mw__nothrow_t *nt)
{
    DISTINCT(_ZnwmSt11align_val_tRKSt9nothrow_t);
    (void)nt;
    return NEW_BODY(round_align(align), n, 1);
}

EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const mw__nothrow_t *nt)
{
    DISTINCT(_ZnamSt11align_val_tRKSt9nothrow_t);
    (void)nt;
    return NEW_BODY(round_align(align), n, 1);
}

/* Every delete: the header knows the size and alignment. */
EXPORT void _ZdlPv(void *p)
{
    DISTINCT(_ZdlPv);
    do_free(p);
}

EXPORT void _ZdaPv(void *p)
{
    DISTINCT(_ZdaPv);
    do_free(p);
}

EXPORT void _ZdlPvm(void *p, size_t n)
{
    DISTINCT(_ZdlPvm);
    (void)n;
    do_free(p);
}

EXPORT void _ZdaPvm(void *p, size_t n)
{
    DISTINCT(_ZdaPvm);
    (void)n;
    do_free(p);
}

EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const mw__nothrow_t *nt)
{
    DISTINCT(_ZdlPvRKSt9nothrow_t);
    (void)nt;
    do_free(p);
}

EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const mw__nothrow_t *nt)
{
    DISTINCT(_ZdaPvRKSt9nothrow_t);
    (void)nt;
    do_free(p);
}

EXPORT void _ZdlPvSt11align_val_t(void *p, size_t align)
{
    DISTINCT(_ZdlPvSt11align_val_t);
    (void)align;
    do_free(p);
}

EXPORT void _ZdaPvSt11align_val_t(void *p, size_t align)
{
    DISTINCT(_ZdaPvSt11align_val_t);
    (void)align;
    do_free(p);
}

EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t align)
{
    DISTINCT(_ZdlPvmSt11align_val_t);
    (void)n;
    (void)align;
    do_free(p);
}

EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t align)
{
    DISTINCT(_ZdaPvmSt11align_val_t);
    (void)n;
    (void)align;
    do_free(p);
}

EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const mw__nothrow_t *nt)
{
    DISTINCT(_ZdlPvSt11align_val_tRKSt9nothrow_t);
    (void)align;
    (void)nt;
    do_free(p);
}

EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const mw__nothrow_t *nt)
{
    DISTINCT(_ZdaPvSt11align_val_tRKSt9nothrow_t);
    (void)align;
    (void)nt;
    do_free(p);
}

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

/* The program leaving through _exit/_Exit skips exit handlers; memcheck still reports. */
EXPORT void _exit(int status)
{
    DISTINCT(_exit);
    mw__exit_now(status, (uintptr_t)((uintptr_t *)__builtin_frame_address(0) + 2));
    __builtin_unreachable();
}

EXPORT void _Exit(int status)
{
    DISTINCT(_Exit);
    mw__exit_now(status, (uintptr_t)((uintptr_t *)__builtin_frame_address(0) + 2));
    __builtin_unreachable();
}
