/* Internal interfaces of the preloaded leak tracer (libmemwalk-leak.so): what one file of the
 * preload needs from another. Nothing here allocates with malloc or uses stdio.
 *
 * The moving parts:
 *   hooks.c    the allocator entry points, lazy start, bootstrap pool, re-entrancy guard
 *   blocks.c   the live-block table: address -> size, trace id, allocation number
 *   traces.c   deduplicated stacks: trace id -> instruction pointers
 *   unwind.c   a DWARF CFI unwinder with per-thread and shared rule caches
 *   sys.c      mmap'd memory, spin locks, environment, logging with write(2)
 *   world.c    stopping the other threads at exit and reading their registers
 *   check.c    the exit-time scan and memcheck's classification
 *   finish.c   the exit paths (exit, _exit, fatal signals) and the result writer */
#ifndef MEMWALK_LEAK_H
#define MEMWALK_LEAK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "leak/record.h"

/* ---- sys.c ---- */
typedef struct {
    volatile int v;
} mw__lock_t;

extern int mw__leak_mt; /* set once a second thread may exist: locks are taken from then on */

void mw__lock_slow(mw__lock_t *l);
static inline void mw__lock(mw__lock_t *l)
{
    if (!mw__leak_mt)
        return;
    if (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
        mw__lock_slow(l);
}
static inline void mw__unlock(mw__lock_t *l)
{
    if (!mw__leak_mt)
        return;
    __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}
/* Unconditional versions, for state that fork must see consistent. */
void mw__lock_always(mw__lock_t *l);
void mw__unlock_always(mw__lock_t *l);

/* Anonymous private memory, registered so the exit scan skips it. NULL on failure. */
void *mw__leak_map(size_t len);
void mw__leak_unmap(void *p, size_t len);
/* The tracer's own memory (its mappings and its writable segments), for the scan to skip. */
size_t mw__leak_own_ranges(uintptr_t *lo, uintptr_t *hi, size_t max);

/* Reads a MEMWALK_* variable straight from environ (no allocation); NULL when unset. */
const char *mw__leak_env(const char *name);
/* Writes "==PID== memwalk: <msg>\n" to stderr. */
void mw__leak_log(const char *msg);
void mw__leak_log2(const char *a, const char *b);
/* Formats v in decimal into buf (>= 24 bytes); returns the length. */
size_t mw__leak_utoa(uint64_t v, char *buf);

/* ---- hooks.c ---- */
struct mw__leak_real {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*memalign)(size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
    int (*dlclose)(void *);
    void (*exit_now)(int); /* _exit: does not return */
};
extern struct mw__leak_real mw__real;

enum mw__leak_state { MW__OFF = 0, MW__STARTING, MW__ON, MW__PASSIVE, MW__DONE };
extern volatile int mw__leak_state;
extern int mw__leak_num_callers;

/* Frees are batched per thread: the blocks' headers are then loaded in parallel instead of one
 * cache miss after another. */
#define MW__DEFER 32

/* Per-thread state. */
struct mw__leak_thread {
    int busy;         /* inside a hook: nested calls are forwarded untracked */
    int stop_pending; /* a stop request arrived while busy */
    int inited;
    int is_main;
    uintptr_t stack_hi; /* highest address the unwinder may read */
    struct mw__unwind_cache *cache;
    uint32_t free_head, free_tail, free_count; /* this thread's free block slots */
    uint64_t allocs, frees, bytes;             /* memcheck's counters, this thread's share */
    uint64_t seq_next, seq_end;                /* allocation numbers reserved by this thread */
    unsigned ndefer;                           /* frees waiting in defer[] */
    void *defer[MW__DEFER];
};
/* The calling thread's state. Not a __thread variable: a TLS block in the preload would grow
 * every thread's DTV and so change what the program allocates (memcheck's preloads have none).
 * The main thread is found with one compare; others through a table keyed by the thread
 * pointer. */
extern struct mw__leak_thread mw__main_thread;
extern uintptr_t mw__main_tp;
struct mw__leak_thread *mw__leak_me_slow(uintptr_t tp);
void mw__leak_me_forget(void);
/* The calling thread's state if it has one, without creating it (for signal handlers). */
struct mw__leak_thread *mw__leak_peek(void);

static inline uintptr_t mw__tp(void)
{
    uintptr_t tp;
#if defined(__x86_64__)
    __asm__("mov %%fs:0, %0" : "=r"(tp));
#else
    tp = (uintptr_t)__builtin_thread_pointer();
#endif
    return tp;
}

static inline struct mw__leak_thread *mw__leak_me(void)
{
    uintptr_t tp = mw__tp();

    if (__builtin_expect(tp == mw__main_tp, 1))
        return &mw__main_thread;
    return mw__leak_me_slow(tp);
}
#define mw__leak_self (*mw__leak_me())

void mw__leak_thread_init(void);
/* Performs the frees t has batched. */
void mw__leak_flush(struct mw__leak_thread *t);
/* Flushes every thread's batch (exit, with the other threads stopped). */
void mw__leak_flush_all(void);
/* In a forked child: folds the state of the threads that did not survive. */
void mw__leak_threads_after_fork(void);
/* Adds the counters of every thread that has state to the sums. */
void mw__leak_threads_sum(uint64_t *allocs, uint64_t *frees, uint64_t *bytes);
/* Turns tracing off for good after an internal problem, saying why once. */
void mw__leak_disable(const char *why);

/* ---- blocks.c ---- */
typedef struct mw__block {
    uintptr_t addr;
    uint64_t size;
    uint64_t seq;
    uint32_t trace;
    uint32_t flags; /* offset from the allocator's pointer to addr */
} mw__block_t;

struct mw__blkinfo {
    uint64_t size;
    size_t off; /* addr - real */
    void *real; /* what the real allocator returned */
    uint32_t slot;
};

/* Room the header needs in front of a block, and spare room kept behind it. */
#define MW__HDR  16u
#define MW__TAIL 8u

int mw__blocks_init(void);
/* Registers the block at real + off (off >= MW__HDR, a power of two); returns it. */
void *mw__blocks_add(struct mw__leak_thread *t, void *real, size_t off, uint64_t size,
                     uint32_t trace);
/* 1 when p carries a valid header (a block the tracer handed out), *out filled. */
int mw__blocks_lookup(const void *p, struct mw__blkinfo *out);
/* Frees p's slot and counts a free. */
void mw__blocks_release(struct mw__leak_thread *t, const void *p, const struct mw__blkinfo *b);
/* A realloc'd block at its new place (real + b->off): one free and one alloc. */
void *mw__blocks_move(struct mw__leak_thread *t, void *real, const struct mw__blkinfo *b,
                      uint64_t size, uint32_t trace);
/* A thread exits: its free slots and counters go to the shared pool. */
void mw__blocks_thread_done(struct mw__leak_thread *t);
/* In a forked child: a thread that no longer exists gives up its counters and slots. */
void mw__blocks_fold(struct mw__leak_thread *t);
void mw__blocks_totals(uint64_t *allocs, uint64_t *frees, uint64_t *bytes);
/* Copies every live block into out (at most max); returns the number of live blocks. */
size_t mw__blocks_snapshot(mw__block_t *out, size_t max);
size_t mw__blocks_count(void);
void mw__blocks_lock_all(void);
void mw__blocks_unlock_all(void);

/* ---- traces.c ---- */
int mw__traces_init(void);
/* Interns a stack; returns its id (0 is "no stack"). */
uint32_t mw__traces_intern(const uintptr_t *ips, unsigned depth);
uint32_t mw__traces_count(void);
const uintptr_t *mw__traces_get(uint32_t id, unsigned *depth);
void mw__traces_lock(void);
void mw__traces_unlock(void);

/* ---- unwind.c ---- */
/* Captures up to max return addresses starting with the caller of the hook whose frame is
 * given (ip = return address into the caller, sp = the caller's stack pointer after the return,
 * bp = the caller's rbp). Returns the number stored. */
unsigned mw__unwind(uintptr_t ip, uintptr_t sp, uintptr_t bp, uintptr_t *out, unsigned max);
/* Unwinds from a full register context (a signal's), first frame = ip itself. */
unsigned mw__unwind_from(uintptr_t ip, uintptr_t sp, uintptr_t bp, uintptr_t *out, unsigned max,
                         uintptr_t stack_hi);
/* The trace id of a hook's stack: frame 0 is pc (in the hook), then the caller (ra, with its
 * sp and rbp). Remembers recent stacks so that a repeated one costs a few compares. */
uint32_t mw__unwind_trace(uintptr_t pc, uintptr_t ra, uintptr_t sp, uintptr_t bp);
/* Forgets every cached rule (after dlclose). */
void mw__unwind_flush(void);
void mw__unwind_thread_done(void);
void mw__unwind_lock(void);
void mw__unwind_unlock(void);

/* ---- world.c ---- */
typedef struct mw__thread_regs {
    pid_t tid;
    int stopped;  /* 1: registers valid; 0: only sp (from /proc) or nothing */
    uintptr_t sp; /* 0 when unknown */
    uintptr_t regs[18];
    unsigned nregs;
} mw__thread_regs_t;

/* Stops every other thread of the process; fills out (at most max). Returns the count. */
size_t mw__world_stop(mw__thread_regs_t *out, size_t max);
/* Called by a hook on its way out when a stop arrived while it was busy. */
void mw__world_park_now(void);
/* Thread-exit bookkeeping: remembers the dead thread's stack so the scan ignores it. */
void mw__world_thread_exit(uintptr_t lo, uintptr_t hi);
size_t mw__world_dead_stacks(uintptr_t *lo, uintptr_t *hi, size_t max);

/* ---- check.c ---- */
struct mw__check_in {
    uintptr_t self_sp; /* where the exiting thread's live stack starts */
    const uintptr_t *self_regs;
    unsigned self_nregs;
    const mw__thread_regs_t *threads;
    size_t nthreads;
};
struct mw__check_out {
    mw__leak_lossrec_t *recs;
    size_t nrecs;
    uint64_t scan_bytes;
    size_t recs_map_len;
    uint64_t heur_bytes[4], heur_blocks[4]; /* still reachable through each heuristic */
};
int mw__check_run(const struct mw__check_in *in, struct mw__check_out *out);

/* ---- modules.c ---- */
typedef struct mw__gone {
    uintptr_t bias, lo, hi;
    const char *path;
} mw__gone_t;

/* Around dlclose: remembers the objects it unloads. */
void mw__modules_before_close(void);
void mw__modules_after_close(void);
/* name made absolute against the working directory when it is a relative path. */
size_t mw__modules_abspath(const char *name, char *buf, size_t len);
/* The objects unloaded so far, oldest first. */
size_t mw__modules_gone(const mw__gone_t **out);

/* ---- finish.c ---- */
void mw__finish_install(void);
void mw__finish_exit(int status, uintptr_t sp, int how);
void mw__send_hello(uint16_t flags);

#endif
