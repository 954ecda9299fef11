/* The allocator entry points the preload interposes, forwarding to the next definition
 * (normally glibc's) found with dlsym(RTLD_NEXT).
 *
 * Why RTLD_NEXT rather than glibc's __libc_malloc family: a program linked with another
 * allocator (jemalloc, tcmalloc) keeps it, so memory is always freed by the allocator that gave
 * it; and malloc_usable_size has no __libc_ twin. dlsym itself allocates, so calls made before
 * the real functions are known are answered from a static bootstrap pool that free() and
 * realloc() recognise. A thread-local busy flag forwards nested calls (from the unwinder, from
 * libc calls the tracer makes) untracked. */
#include "leak/leak.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "scan/scan.h"

#define EXPORT __attribute__((visibility("default")))

struct mw__leak_real mw__real;
volatile int mw__leak_state;
int mw__leak_num_callers = 12;
struct mw__leak_thread mw__main_thread;
uintptr_t mw__main_tp;

/* ---- per-thread state without TLS --------------------------------------------------------- */
#define THREADS_CAP  (1u << 16)
#define TOMBSTONE    ((uintptr_t)1)
#define SLAB_THREADS 512

struct tslot {
    uintptr_t tp;
    struct mw__leak_thread *t;
};

static struct tslot *tslots;
static mw__lock_t tlock;
static struct mw__leak_thread *tfree;
static struct mw__leak_thread fallback = {.busy = 1}; /* never tracked */
/* The thread-specific key whose destructor sees threads exit; its value is the thread's state,
 * found by pthread_getspecific faster than through the table. glibc keeps keys below 32 in the
 * thread descriptor itself, so setting one never allocates; other keys are not used so. */
static pthread_key_t thread_key;
static int thread_key_ok, thread_key_fast;

static inline size_t thome(uintptr_t tp)
{
    return (size_t)((tp * 0x9E3779B97F4A7C15ull) >> 48) & (THREADS_CAP - 1);
}

struct mw__leak_thread *mw__leak_peek(void)
{
    uintptr_t tp = mw__tp();
    struct tslot *ts = __atomic_load_n(&tslots, __ATOMIC_ACQUIRE);
    size_t i, n;

    if (tp == mw__main_tp)
        return &mw__main_thread;
    if (!ts)
        return NULL;
    for (i = thome(tp), n = 0; n < THREADS_CAP; i = (i + 1) & (THREADS_CAP - 1), n++) {
        uintptr_t k = __atomic_load_n(&ts[i].tp, __ATOMIC_ACQUIRE);
        if (k == tp)
            return ts[i].t;
        if (k == 0)
            break;
    }
    return NULL;
}

struct mw__leak_thread *mw__leak_me_slow(uintptr_t tp)
{
    struct tslot *ts = __atomic_load_n(&tslots, __ATOMIC_ACQUIRE);
    struct mw__leak_thread *t;
    size_t i, n, reuse = (size_t)-1;

    if (!mw__main_tp && syscall(SYS_gettid) == getpid()) {
        mw__main_tp = tp;
        return &mw__main_thread;
    }
    if (thread_key_fast) {
        t = pthread_getspecific(thread_key);
        if (t)
            return t;
    }
    if (ts) {
        for (i = thome(tp), n = 0; n < THREADS_CAP; i = (i + 1) & (THREADS_CAP - 1), n++) {
            uintptr_t k = __atomic_load_n(&ts[i].tp, __ATOMIC_ACQUIRE);
            if (k == tp)
                return ts[i].t;
            if (k == 0)
                break;
        }
    }
    mw__lock_always(&tlock);
    if (!tslots) {
        tslots = mw__leak_map(THREADS_CAP * sizeof(struct tslot));
        if (!tslots) {
            mw__unlock_always(&tlock);
            return &fallback;
        }
    }
    ts = tslots;
    for (i = thome(tp), n = 0; n < THREADS_CAP; i = (i + 1) & (THREADS_CAP - 1), n++) {
        if (ts[i].tp == tp) {
            mw__unlock_always(&tlock);
            return ts[i].t;
        }
        if (ts[i].tp == TOMBSTONE && reuse == (size_t)-1)
            reuse = i;
        if (ts[i].tp == 0) {
            if (reuse == (size_t)-1)
                reuse = i;
            break;
        }
    }
    if (reuse == (size_t)-1) {
        mw__unlock_always(&tlock);
        return &fallback;
    }
    if (!tfree) {
        struct mw__leak_thread *slab = mw__leak_map(SLAB_THREADS * sizeof *slab);
        if (!slab) {
            mw__unlock_always(&tlock);
            return &fallback;
        }
        for (i = 0; i < SLAB_THREADS; i++) {
            slab[i].cache = (struct mw__unwind_cache *)tfree;
            tfree = &slab[i];
        }
    }
    t = tfree;
    tfree = (struct mw__leak_thread *)t->cache;
    memset(t, 0, sizeof *t);
    ts[reuse].t = t;
    __atomic_store_n(&ts[reuse].tp, tp, __ATOMIC_RELEASE);
    mw__unlock_always(&tlock);
    return t;
}

void mw__leak_threads_sum(uint64_t *allocs, uint64_t *frees, uint64_t *bytes)
{
    size_t i;

    *allocs += mw__main_thread.allocs;
    *frees += mw__main_thread.frees;
    *bytes += mw__main_thread.bytes;
    if (!tslots)
        return;
    for (i = 0; i < THREADS_CAP; i++)
        if (tslots[i].tp > TOMBSTONE) {
            *allocs += tslots[i].t->allocs;
            *frees += tslots[i].t->frees;
            *bytes += tslots[i].t->bytes;
        }
}

/* In a forked child only the forking thread lives on: the others give up their state. */
void mw__leak_threads_after_fork(void)
{
    uintptr_t tp = mw__tp();
    size_t i;

    if (tp != mw__main_tp) {
        mw__blocks_fold(&mw__main_thread);
    }
    if (!tslots)
        return;
    for (i = 0; i < THREADS_CAP; i++)
        if (tslots[i].tp > TOMBSTONE && tslots[i].tp != tp) {
            struct mw__leak_thread *t = tslots[i].t;
            mw__blocks_fold(t);
            tslots[i].tp = TOMBSTONE;
            t->cache = (struct mw__unwind_cache *)tfree;
            tfree = t;
        }
}

/* Drops the calling thread's state (it is exiting). */
void mw__leak_me_forget(void)
{
    uintptr_t tp = mw__tp();
    size_t i, n;

    if (tp == mw__main_tp || !tslots)
        return;
    mw__lock_always(&tlock);
    for (i = thome(tp), n = 0; n < THREADS_CAP && tslots[i].tp;
         i = (i + 1) & (THREADS_CAP - 1), n++)
        if (tslots[i].tp == tp) {
            struct mw__leak_thread *t = tslots[i].t;
            __atomic_store_n(&tslots[i].tp, TOMBSTONE, __ATOMIC_RELEASE);
            t->cache = (struct mw__unwind_cache *)tfree;
            tfree = t;
            break;
        }
    mw__unlock_always(&tlock);
}

/* ---- bootstrap pool ----------------------------------------------------------------------- */
#define POOL_SIZE (256u << 10)
static char pool[POOL_SIZE] __attribute__((aligned(64)));
static size_t pool_used;

static inline int in_pool(const void *p)
{
    return (const char *)p >= pool && (const char *)p < pool + POOL_SIZE;
}

static void *pool_alloc(size_t n, size_t align)
{
    size_t start, end, old;

    if (align < 16)
        align = 16;
    if (n > POOL_SIZE)
        return NULL;
    do {
        old = __atomic_load_n(&pool_used, __ATOMIC_RELAXED);
        start = (old + 16 + align - 1) & ~(align - 1);
        end = start + n;
        if (end > POOL_SIZE)
            return NULL;
    } while (
        !__atomic_compare_exchange_n(&pool_used, &old, end, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    memcpy(pool + start - 8, &n, sizeof n);
    return pool + start;
}

static size_t pool_size(const void *p)
{
    size_t n;

    memcpy(&n, (const char *)p - 8, sizeof n);
    return n;
}

/* ---- start -------------------------------------------------------------------------------- */
static void *next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

static void start(void)
{
    int expected = MW__OFF;

    if (!__atomic_compare_exchange_n(&mw__leak_state, &expected, MW__STARTING, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    mw__leak_self.busy++;
    mw__real.malloc = next("malloc");
    mw__real.free = next("free");
    mw__real.calloc = next("calloc");
    mw__real.realloc = next("realloc");
    mw__real.memalign = next("memalign");
    mw__real.posix_memalign = next("posix_memalign");
    mw__real.aligned_alloc = next("aligned_alloc");
    mw__real.valloc = next("valloc");
    mw__real.pvalloc = next("pvalloc");
    mw__real.malloc_usable_size = next("malloc_usable_size");
    mw__real.dlclose = next("dlclose");
    mw__real.exit_now = next("_exit");
    mw__leak_self.busy--;
    if (!mw__real.malloc || !mw__real.free || !mw__real.calloc || !mw__real.realloc ||
        !mw__real.memalign || !mw__real.exit_now) {
        mw__leak_log("cannot find the real allocator functions: not tracing");
        __atomic_store_n(&mw__leak_state, MW__DONE, __ATOMIC_RELEASE);
        return;
    }
    if (mw__blocks_init() < 0 || mw__traces_init() < 0) {
        mw__leak_log("cannot map the tracer's tables: not tracing");
        __atomic_store_n(&mw__leak_state, MW__DONE, __ATOMIC_RELEASE);
        return;
    }
    __atomic_store_n(&mw__leak_state, MW__ON, __ATOMIC_RELEASE);
}

void mw__leak_disable(const char *why)
{
    if (__atomic_exchange_n(&mw__leak_state, MW__DONE, __ATOMIC_ACQ_REL) == MW__ON) {
        mw__leak_log2("tracing switched off: ", why);
    }
}

/* Thread exit: remember where this thread's stack was (the scan must not take a dead thread's
 * stack for a root, as memcheck does not) and release the thread's unwind cache. */
static void thread_gone(void *arg)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;

    (void)arg;
    mw__leak_self.busy++;
    if (!mw__leak_self.is_main && pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &addr, &size) == 0)
            mw__world_thread_exit((uintptr_t)addr, (uintptr_t)addr + size);
        pthread_attr_destroy(&attr);
    }
    mw__leak_flush(&mw__leak_self);
    mw__unwind_thread_done();
    mw__blocks_thread_done(&mw__leak_self);
    mw__leak_self.busy--;
    mw__leak_me_forget();
}

void mw__leak_thread_init(void)
{
    struct mw__leak_thread *self = &mw__leak_self;

    self->inited = 1;
    self->is_main = syscall(SYS_gettid) == getpid();
    self->stack_hi = self->is_main ? mw__scan_main_stack_base() : (uintptr_t)pthread_self();
    if (!self->is_main && thread_key_ok)
        pthread_setspecific(thread_key, self);
}

/* Called from the constructor: options that need the environment, exit handling. */
__attribute__((constructor)) static void leak_init(void)
{
    mw__leak_self.busy++;
    if (mw__leak_state == MW__OFF)
        start();
    if (pthread_key_create(&thread_key, thread_gone) == 0) {
        thread_key_ok = 1;
        thread_key_fast = thread_key < 32;
    }
    mw__leak_self.busy--;
    if (mw__leak_state == MW__ON)
        mw__finish_install();
}

/* ---- the tracked path --------------------------------------------------------------------- */
static inline void leave(struct mw__leak_thread *self)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    self->busy--;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__builtin_expect(self->stop_pending, 0))
        mw__world_park_now();
}

/* The current instruction address: frame 0 of every stack is the hook itself, as memcheck
 * shows its replacement function first. */
#define HERE()                                            \
    ({                                                    \
        uintptr_t pc_;                                    \
        __asm__ volatile("lea 0(%%rip), %0" : "=r"(pc_)); \
        pc_;                                              \
    })

/* The stack of the hook whose frame is fp, interned. */
static inline __attribute__((always_inline)) uint32_t stack_id(uintptr_t pc, uintptr_t *fp)
{
    return mw__unwind_trace(pc, fp[1], (uintptr_t)(fp + 2), fp[0]);
}

/* True when this call should be tracked; busy is then set. */
static inline __attribute__((always_inline)) int enter(struct mw__leak_thread *self)
{
    if (__builtin_expect(mw__leak_state != MW__ON || self->busy, 0)) {
        if (mw__leak_state == MW__OFF)
            start();
        if (mw__leak_state != MW__ON || self->busy)
            return 0;
    }
    self->busy++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__builtin_expect(!mw__leak_mt, 0) && !__libc_single_threaded)
        mw__leak_mt = 1;
    if (__builtin_expect(!self->inited, 0))
        mw__leak_thread_init();
    return 1;
}

#ifndef __x86_64__
#undef HERE
#define HERE() ((uintptr_t)__builtin_return_address(0))
#endif

/* Untracked allocation (tracing off, or a call nested in the tracer). */
static void *plain_alloc(size_t align, size_t n)
{
    if (!mw__real.malloc)
        return pool_alloc(n, align);
    return align <= 16 ? mw__real.malloc(n) : mw__real.memalign(align, n);
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
    return mw__blocks_add(self, real, off, n, stack_id(pc, fp));
}

EXPORT void *malloc(size_t n)
{
    struct mw__leak_thread *self = &mw__leak_self;
    void *p;

    if (!enter(self))
        return plain_alloc(16, n);
    p = alloc(self, 16, n, 0, HERE(), __builtin_frame_address(0));
    leave(self);
    return p;
}

/* This malloc's own address: in a program built without PIE, (uintptr_t)malloc is the
 * program's PLT entry (the address the program compares function pointers with). */
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-attributes" /* an alias, not a second declaration */
#endif
extern __typeof__(malloc) mw__malloc_here __attribute__((alias("malloc"), visibility("hidden")));
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* Frees p: a tracked block through its header, anything else as it is. */
static inline __attribute__((always_inline)) void release(void *p)
{
    struct mw__blkinfo b;

    if (mw__blocks_lookup(p, &b)) {
        mw__blocks_release(&mw__leak_self, p, &b);
        mw__real.free(b.real);
    } else if (mw__real.free) {
        mw__real.free(p);
    }
}

void mw__leak_flush(struct mw__leak_thread *t)
{
    unsigned i, n = t->ndefer;

    t->busy++; /* a stop request waits until the slot lists are consistent */
    for (i = 0; i < n; i++)
        __builtin_prefetch((char *)t->defer[i] - MW__HDR);
    for (i = 0; i < n; i++)
        release(t->defer[i]);
    t->ndefer = 0;
    leave(t);
}

void mw__leak_flush_all(void)
{
    size_t i;

    mw__leak_flush(&mw__main_thread);
    if (!tslots)
        return;
    for (i = 0; i < THREADS_CAP; i++)
        if (tslots[i].tp > TOMBSTONE && tslots[i].t->ndefer)
            mw__leak_flush(tslots[i].t);
}

EXPORT void free(void *p)
{
    struct mw__leak_thread *self;

    if (!p || in_pool(p))
        return;
    self = &mw__leak_self;
    if (__builtin_expect(mw__leak_state == MW__ON && !self->busy, 1)) {
        self->busy++; /* a stop request must not find p half queued */
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        self->defer[self->ndefer++] = p;
        if (self->ndefer == MW__DEFER)
            mw__leak_flush(self);
        leave(self);
        return;
    }
    self->busy++;
    release(p);
    leave(self);
}

EXPORT void *calloc(size_t n, size_t size)
{
    struct mw__leak_thread *self = &mw__leak_self;
    void *p;
    size_t total;

    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (!enter(self)) {
        if (mw__real.calloc)
            return mw__real.calloc(n, size);
        return pool_alloc(total, 16); /* the pool is zeroed and never reused */
    }
    p = alloc(self, 16, total, 1, HERE(), __builtin_frame_address(0));
    leave(self);
    return p;
}

/* realloc's logic, shared with reallocarray; fp and pc name the entry point. */
static inline __attribute__((always_inline)) void *do_realloc(void *p, size_t n, uintptr_t pc,
                                                              uintptr_t *fp)
{
    struct mw__leak_thread *self = &mw__leak_self;
    struct mw__blkinfo b;
    size_t keep;
    void *q, *real;

    if (p && in_pool(p)) {
        keep = pool_size(p);
        q = malloc(n);
        if (q)
            memcpy(q, p, keep < n ? keep : n);
        return q;
    }
    if (!p) {
        if (!enter(self))
            return plain_alloc(16, n);
        /* realloc(NULL, n) is malloc(n): memcheck's stack says malloc, so does ours. */
        q = alloc(self, 16, n, 0, (uintptr_t)mw__malloc_here, fp);
        leave(self);
        return q;
    }
    if (!mw__blocks_lookup(p, &b)) {
        /* A block handed out untracked: stays so when the tracer is busy or off. */
        if (!enter(self))
            return mw__real.realloc(p, n);
        if (n == 0) {
            mw__real.free(p);
            leave(self);
            return NULL;
        }
        q = alloc(self, 16, n, 0, pc, fp);
        if (q) {
            keep = mw__real.malloc_usable_size ? mw__real.malloc_usable_size(p) : n;
            memcpy(q, p, keep < n ? keep : n);
            mw__real.free(p);
        }
        leave(self);
        return q;
    }
    if (n == 0) { /* glibc frees the block and returns NULL; memcheck counts one free */
        mw__blocks_release(self, p, &b);
        mw__real.free(b.real);
        return NULL;
    }
    if (b.off != MW__HDR) {
        /* Aligned blocks move to a plain one, as a realloc may. */
        int tracked = enter(self);
        q = tracked ? alloc(self, 16, n, 0, pc, fp) : NULL;
        if (tracked)
            leave(self);
        if (!q)
            return NULL;
        memcpy(q, p, b.size < n ? b.size : n);
        release(p);
        return q;
    }
    if (__builtin_add_overflow(n, (size_t)(MW__HDR + MW__TAIL), &keep)) {
        errno = ENOMEM;
        return NULL;
    }
    real = mw__real.realloc(b.real, keep);
    if (!real)
        return NULL;
    if (enter(self)) {
        q = mw__blocks_move(self, real, &b, n, stack_id(pc, fp));
        leave(self);
    } else {
        q = mw__blocks_move(self, real, &b, n, 0);
    }
    return q;
}

EXPORT void *realloc(void *p, size_t n)
{
    return do_realloc(p, n, HERE(), __builtin_frame_address(0));
}

EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;

    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(p, total, HERE(), __builtin_frame_address(0));
}

static inline int pow2(size_t a)
{
    return a && !(a & (a - 1));
}

EXPORT void *memalign(size_t align, size_t n)
{
    struct mw__leak_thread *self = &mw__leak_self;
    void *p;

    /* glibc rounds an alignment that is not a power of two up to one. */
    while (!pow2(align) && align < ((size_t)1 << 62))
        align = align ? (size_t)1 << (64 - __builtin_clzll(align)) : 1;
    if (!enter(self))
        return mw__real.memalign ? mw__real.memalign(align, n) : pool_alloc(n, align);
    p = alloc(self, align, n, 0, HERE(), __builtin_frame_address(0));
    leave(self);
    return p;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    struct mw__leak_thread *self = &mw__leak_self;
    void *p;

    if (!pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    if (!enter(self))
        return mw__real.aligned_alloc ? mw__real.aligned_alloc(align, n) : pool_alloc(n, align);
    p = alloc(self, align, n, 0, HERE(), __builtin_frame_address(0));
    leave(self);
    return p;
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    struct mw__leak_thread *self = &mw__leak_self;
    void *p = NULL;
    int saved = errno;

    if (align < sizeof(void *) || !pow2(align))
        return EINVAL;
    if (!enter(self)) {
        if (mw__real.posix_memalign)
            return mw__real.posix_memalign(out, align, n);
        p = pool_alloc(n, align);
        if (!p)
            return ENOMEM;
        *out = p;
        return 0;
    }
    p = alloc(self, align, n, 0, HERE(), __builtin_frame_address(0));
    leave(self);
    if (!p) {
        errno = saved;
        return ENOMEM;
    }
    *out = p;
    return 0;
}

EXPORT void *valloc(size_t n)
{
    struct mw__leak_thread *self = &mw__leak_self;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *p;

    if (!enter(self))
        return mw__real.valloc ? mw__real.valloc(n) : pool_alloc(n, 4096);
    p = alloc(self, page, n, 0, HERE(), __builtin_frame_address(0));
    leave(self);
    return p;
}

EXPORT void *pvalloc(size_t n)
{
    struct mw__leak_thread *self = &mw__leak_self;
    size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded;
    void *p;

    if (__builtin_add_overflow(n, page - 1, &rounded)) {
        errno = ENOMEM;
        return NULL;
    }
    rounded &= ~(page - 1);
    if (!rounded)
        rounded = page;
    if (!enter(self))
        return mw__real.pvalloc ? mw__real.pvalloc(n) : pool_alloc(rounded, 4096);
    p = alloc(self, page, rounded, 0, HERE(), __builtin_frame_address(0));
    leave(self);
    return p;
}

EXPORT size_t malloc_usable_size(void *p)
{
    struct mw__blkinfo b;

    if (!p)
        return 0;
    if (in_pool(p))
        return pool_size(p);
    if (mw__leak_state == MW__OFF)
        start();
    if (!mw__real.malloc_usable_size)
        return 0;
    if (mw__blocks_lookup(p, &b))
        return mw__real.malloc_usable_size(b.real) - b.off;
    return mw__real.malloc_usable_size(p);
}

/* dlclose may unmap code whose unwind rules are cached. */
EXPORT int dlclose(void *handle)
{
    int r;

    if (mw__leak_state == MW__OFF)
        start();
    if (!mw__real.dlclose)
        return -1;
    mw__modules_before_close();
    r = mw__real.dlclose(handle);
    mw__modules_after_close();
    mw__unwind_flush();
    return r;
}

/* The program leaving through _exit/_Exit skips exit handlers; memcheck still reports. caller_sp
 * is the stack pointer of the exported function's caller, computed there. */
__attribute__((noreturn)) static void exit_now(int status, uintptr_t caller_sp)
{
    if (mw__leak_state == MW__OFF)
        start();
    mw__finish_exit(status, caller_sp, MW__LEAK_END_EXIT_NOW);
    if (mw__real.exit_now)
        mw__real.exit_now(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

EXPORT void _exit(int status)
{
    exit_now(status, (uintptr_t)((uintptr_t *)__builtin_frame_address(0) + 2));
}

EXPORT void _Exit(int status)
{
    exit_now(status, (uintptr_t)((uintptr_t *)__builtin_frame_address(0) + 2));
}
