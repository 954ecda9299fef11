/* Per-thread state without TLS, and the gate.
 *
 * A thread's state is found by its thread pointer: the main thread with one compare, the others
 * through pthread_getspecific (keys below 32 live in the thread descriptor) or an open-addressed
 * table. The gate: fork's prepare handler and the exit check close it; a thread entering a hook
 * then waits (fork) or parks for good (exit), and the closer waits for the threads already
 * inside a hook to leave. So a thread that blocks every signal, and cannot be stopped, still
 * never has its tables torn: it stops at its next hook. */
#include "leak/leak.h"

#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "scan/scan.h"

struct mw__leak_thread mw__main_thread;
uintptr_t mw__main_tp;
volatile int mw__gate;
int mw__gate_fence;
static struct mw__leak_thread *volatile gate_owner;

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

/* The slot holding tp in the table, or -1 (linear probing from its home slot). *free_slot, when
 * not NULL, gets the first tombstone or empty slot on the way, -1 when the table is full. */
static long probe(const struct tslot *ts, uintptr_t tp, long *free_slot)
{
    size_t i, n;
    long fs = -1, found = -1;

    for (i = thome(tp), n = 0; n < THREADS_CAP; i = (i + 1) & (THREADS_CAP - 1), n++) {
        uintptr_t k = __atomic_load_n(&ts[i].tp, __ATOMIC_ACQUIRE);
        if (k == tp) {
            found = (long)i;
            break;
        }
        if (k == TOMBSTONE && fs < 0)
            fs = (long)i;
        if (k == 0) {
            if (fs < 0)
                fs = (long)i;
            break;
        }
    }
    if (free_slot)
        *free_slot = fs;
    return found;
}

static struct mw__leak_thread *lookup(struct tslot *ts, uintptr_t tp)
{
    long i = probe(ts, tp, NULL);

    return i >= 0 ? ts[i].t : NULL;
}

struct mw__leak_thread *mw__leak_peek(void)
{
    uintptr_t tp = mw__tp();
    struct tslot *ts = __atomic_load_n(&tslots, __ATOMIC_ACQUIRE);

    if (tp == mw__main_tp)
        return &mw__main_thread;
    return ts ? lookup(ts, tp) : NULL;
}

struct mw__leak_thread *mw__leak_me_slow(uintptr_t tp)
{
    struct tslot *ts = __atomic_load_n(&tslots, __ATOMIC_ACQUIRE);
    struct mw__leak_thread *t;
    long found, reuse;
    size_t i;

    if (!mw__main_tp && syscall(SYS_gettid) == getpid()) {
        mw__main_tp = tp;
        return &mw__main_thread;
    }
    if (thread_key_fast) {
        t = pthread_getspecific(thread_key);
        if (t)
            return t;
    }
    if (ts && (t = lookup(ts, tp)) != NULL)
        return t;
    mw__lock_always(&tlock);
    if (!tslots) {
        tslots = mw__leak_map(THREADS_CAP * sizeof(struct tslot));
        if (!tslots) {
            mw__unlock_always(&tlock);
            return &fallback;
        }
    }
    ts = tslots;
    if ((found = probe(ts, tp, &reuse)) >= 0) {
        mw__unlock_always(&tlock);
        return ts[found].t;
    }
    if (reuse < 0) {
        mw__unlock_always(&tlock);
        mw__leak_limit(MW__LEAK_LIMIT_THREADS, "too many live threads: later ones not traced");
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

/* Calls fn on every thread that has state (the main thread first). */
static void each_thread(void (*fn)(struct mw__leak_thread *t, void *ctx), void *ctx)
{
    size_t i;

    fn(&mw__main_thread, ctx);
    if (!tslots)
        return;
    for (i = 0; i < THREADS_CAP; i++)
        if (__atomic_load_n(&tslots[i].tp, __ATOMIC_ACQUIRE) > TOMBSTONE)
            fn(tslots[i].t, ctx);
}

struct sums {
    uint64_t *allocs, *frees, *bytes;
};

static void add_sums(struct mw__leak_thread *t, void *ctx)
{
    struct sums *s = ctx;

    *s->allocs += t->allocs;
    *s->frees += t->frees;
    *s->bytes += t->bytes;
}

void mw__leak_threads_sum(uint64_t *allocs, uint64_t *frees, uint64_t *bytes)
{
    struct sums s = {allocs, frees, bytes};

    each_thread(add_sums, &s);
}

struct flush_ctx {
    struct mw__leak_thread *self;
    int real;
};

static void flush_one(struct mw__leak_thread *t, void *ctx)
{
    struct flush_ctx *f = ctx;

    if (t->ndefer)
        mw__leak_flush(f->self, t, f->real);
}

void mw__leak_flush_all(struct mw__leak_thread *self, int real)
{
    struct flush_ctx f = {self, real};

    each_thread(flush_one, &f);
}

/* In a forked child only the forking thread lives on: the others' batched frees happen now
 * (they were made before the fork, so the child must not see those blocks live), then the
 * threads give up their state. */
void mw__leak_threads_after_fork(void)
{
    uintptr_t tp = mw__tp();
    struct mw__leak_thread *self = mw__leak_me();
    size_t i;

    if (tp != mw__main_tp) {
        mw__leak_flush(self, &mw__main_thread, 1);
        mw__blocks_fold(&mw__main_thread);
    }
    if (!tslots)
        return;
    for (i = 0; i < THREADS_CAP; i++)
        if (tslots[i].tp > TOMBSTONE && tslots[i].tp != tp) {
            struct mw__leak_thread *t = tslots[i].t;
            mw__leak_flush(self, t, 1);
            mw__blocks_fold(t);
            t->busy = 0;
            t->pending = 0;
            tslots[i].tp = TOMBSTONE;
            t->cache = (struct mw__unwind_cache *)tfree;
            tfree = t;
        }
}

/* Drops the calling thread's state (it is exiting). */
static void forget(void)
{
    uintptr_t tp = mw__tp();
    long i;

    if (tp == mw__main_tp || !tslots)
        return;
    mw__lock_always(&tlock);
    if ((i = probe(tslots, tp, NULL)) >= 0) {
        struct mw__leak_thread *t = tslots[i].t;
        __atomic_store_n(&tslots[i].tp, TOMBSTONE, __ATOMIC_RELEASE);
        t->cache = (struct mw__unwind_cache *)tfree;
        tfree = t;
    }
    mw__unlock_always(&tlock);
}

void mw__threads_lock(void)
{
    mw__lock_always(&tlock);
}

void mw__threads_unlock(void)
{
    mw__unlock_always(&tlock);
}

struct busy_ctx {
    const struct mw__leak_thread *self;
    pid_t *tids;
    size_t max, n;
};

static void count_busy(struct mw__leak_thread *t, void *ctx)
{
    struct busy_ctx *b = ctx;

    if (t == b->self || !__atomic_load_n(&t->busy, __ATOMIC_ACQUIRE))
        return;
    if (b->n < b->max)
        b->tids[b->n] = t->tid;
    b->n++;
}

size_t mw__threads_busy(const struct mw__leak_thread *self, pid_t *tids, size_t max)
{
    struct busy_ctx b = {self, tids, max, 0};

    each_thread(count_busy, &b);
    return b.n;
}

struct find_ctx {
    pid_t tid;
    struct mw__leak_thread *found;
};

static void find_tid(struct mw__leak_thread *t, void *ctx)
{
    struct find_ctx *f = ctx;

    if (t->tid == f->tid && t->inited)
        f->found = t;
}

struct mw__leak_thread *mw__threads_find(pid_t tid)
{
    struct find_ctx f = {tid, NULL};

    each_thread(find_tid, &f);
    return f.found;
}

struct stack_ctx {
    uintptr_t lo, hi;
    struct mw__leak_thread *found;
};

static void find_stack(struct mw__leak_thread *t, void *ctx)
{
    struct stack_ctx *s = ctx;

    if (t->inited && t->stack_hi > s->lo && t->stack_hi <= s->hi)
        s->found = t;
}

struct mw__leak_thread *mw__threads_stack_owner(uintptr_t lo, uintptr_t hi)
{
    struct stack_ctx s = {lo, hi, NULL};

    each_thread(find_stack, &s);
    return s.found;
}

/* ---- the gate ---------------------------------------------------------------------------- */
static void futex_wait(volatile int *w, int val)
{
    struct timespec ts = {0, 50 * 1000 * 1000};

    syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

void mw__gate_block(struct mw__leak_thread *t)
{
    for (;;) {
        int g = __atomic_load_n(&mw__gate, __ATOMIC_ACQUIRE);
        if (!g || gate_owner == t)
            return;
        t->busy--;
        if (g == MW__GATE_EXIT)
            mw__world_park_now();
        futex_wait(&mw__gate, g);
        t->busy++;
        if (mw__gate_fence)
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
        else
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
}

size_t mw__gate_close(struct mw__leak_thread *t, int kind, unsigned wait_ms)
{
    unsigned waited = 0;
    size_t busy;
    pid_t dummy[1];

    for (;;) {
        int expected = MW__GATE_OPEN;
        if (__atomic_compare_exchange_n(&mw__gate, &expected, kind, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            break;
        if (expected == MW__GATE_EXIT && kind == MW__GATE_FORK) {
            /* The process is ending: a fork now would start a child of torn tables. */
            t->busy = 0;
            mw__world_park_now();
        }
        futex_wait(&mw__gate, expected);
    }
    gate_owner = t;
    /* Every thread that marked itself busy before reading the gate is now seen busy; every
     * other one will read the gate closed. */
    mw__sys_barrier();
    for (;;) {
        busy = mw__threads_busy(t, dummy, 0);
        if (!busy || waited >= wait_ms)
            break;
        if (waited < 20) {
            sched_yield();
            waited++;
        } else {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            waited++;
        }
    }
    return busy;
}

void mw__gate_open(void)
{
    gate_owner = NULL;
    __atomic_store_n(&mw__gate, MW__GATE_OPEN, __ATOMIC_RELEASE);
    syscall(SYS_futex, &mw__gate, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

void mw__leak_pending(struct mw__leak_thread *t)
{
    int p = __atomic_exchange_n(&t->pending, 0, __ATOMIC_ACQ_REL);

    if (p & MW__PEND_SIGNAL)
        mw__signals_deliver(t);
    if (p & MW__PEND_STOP)
        mw__world_park_now();
}

/* ---- thread start and exit ---------------------------------------------------------------- */
/* Thread exit: remember where this thread's stack was (the scan must not take a dead thread's
 * stack for a root, as memcheck does not) and release the thread's unwind cache. */
static void thread_gone(void *arg)
{
    struct mw__leak_thread *self = mw__leak_me();
    uintptr_t lo, hi;

    (void)arg;
    if (self == &fallback)
        return;
    mw__enter(self);
    /* The stack's bounds come from pthread_getattr_np, which allocates: from the scratch (see
     * struct mw__leak_thread). */
    self->scratch_used = 0;
    self->scratch_on = 1;
    if (!self->is_main && mw__scan_thread_stack_bounds(&lo, &hi) == 0)
        mw__world_thread_exit(lo, hi);
    self->scratch_on = 0;
    mw__leak_flush(self, self, 1);
    mw__unwind_thread_done(self);
    mw__blocks_thread_done(self);
    mw__errors_thread_gone(self->num);
    mw__leave(self);
    forget();
}

void mw__leak_thread_init(struct mw__leak_thread *t)
{
    t->inited = 1;
    t->tid = (pid_t)syscall(SYS_gettid);
    /* The main thread's state is the static one (also in a child forked by another thread,
     * whose stack is that thread's). */
    t->is_main = t == &mw__main_thread && t->tid == getpid();
    t->stack_hi = t->is_main ? mw__scan_main_stack_base() : (uintptr_t)pthread_self();
    if (!t->num)
        t->num = t->is_main ? 1 : mw__errors_thread_number();
    if (!t->is_main && thread_key_ok)
        pthread_setspecific(thread_key, t);
}

void mw__threads_init(void)
{
    if (pthread_key_create(&thread_key, thread_gone) == 0) {
        thread_key_ok = 1;
        thread_key_fast = thread_key < 32;
    }
}
