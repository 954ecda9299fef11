/* Internal interfaces of the preloaded leak tracer (libmemwalk-leak.so): what one file of the
 * preload needs from another. Nothing here allocates with malloc or uses stdio.
 *
 * The moving parts, one concern per file:
 *   entry.c    the allocator entry points (C, __libc_*, C++ operators), _exit, dlclose
 *   init.c     lazy start (the real functions), options, the tracer's environment
 *   pool.c     the static bootstrap pool that answers dlsym's own allocations
 *   threads.c  per-thread state without TLS, and the gate that holds every hook back while
 *              fork or the exit check needs the tables still
 *   blocks.c   the live-block table: address -> size, trace id, allocation number
 *   traces.c   deduplicated stacks: trace id -> instruction pointers
 *   unwind.c   a DWARF CFI unwinder with per-thread and shared rule caches
 *   freelist.c the freed-block queue (memcheck's --freelist-vol): delayed reuse, contents cleared
 *   errors.c   bad releases (double free, invalid pointer, mismatched family) as memcheck reports
 *   fds.c      descriptors the program opens, and those open at exit (--track-fds)
 *   modules.c  objects unloaded by dlclose, remembered for the stacks taken in them
 *   sys.c      mmap'd memory, spin locks, environment, logging with write(2), limits
 *   world.c    stopping the other threads at exit and reading their registers
 *   exit.c     the exit paths (exit, _exit, a fatal signal) into the check and the writer
 *   signals.c  fatal signals: reported at once, or when the interrupted hook is done
 *   fork.c     pthread_atfork: a child starts from consistent tables
 *   proc.c     exec and spawn (the tracer's variables go along), SIGKILL sent to itself
 *   wire.c     the result stream written to the memwalk process (record.h)
 *   check.c    the exit-time check: snapshot, classification, loss records (check.h)
 *   roots.c    the roots: the process's mappings minus what is no root
 *   mark.c     marking from the roots and memcheck's heuristics
 *   sort.c     the one heapsort */
#ifndef MEMWALK_LEAK_H
#define MEMWALK_LEAK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/common.h"
#include "leak/record.h"
#include "scan/scan.h"

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
void mw__sys_lock(void); /* the mapping registry, for fork */
void mw__sys_unlock(void);

/* Anonymous private memory, registered so the exit scan skips it. NULL on failure. */
void *mw__leak_map(size_t len);
/* A system call without the C library (syscall() and prctl() are wrapped; fds.c): -1 with errno
 * set on failure. */
long mw__raw_syscall(long n, long a, long b, long c, long d, long e, long f);
void mw__leak_unmap(void *p, size_t len);
/* Maps in [p, p + len) of a mapping of ours before it is written, in one call rather than a
 * page fault per page (a table about to be filled in order). Best effort. */
void mw__leak_prefault(void *p, size_t len);
#define MW__PREFAULT ((size_t)1 << 16)
/* The tracer's own memory (its mappings and its writable segments), for the scan to skip. */
size_t mw__leak_own_ranges(uintptr_t *lo, uintptr_t *hi, size_t max);
/* 1 when pc is in the tracer's own code (recorded at start, no loader call). */
int mw__leak_own_code(uintptr_t pc);
void mw__leak_own_init(void);

/* Reads a MEMWALK_* variable straight from environ (no allocation); NULL when unset. */
const char *mw__leak_env(const char *name);
/* Writes "==PID== memwalk: <msg>\n" to stderr. */
void mw__leak_log(const char *msg);
void mw__leak_log2(const char *a, const char *b);
/* The log's descriptor, set at start (see sys.c). */
void mw__sys_log_init(void);
/* The tracer's own copy of stderr for its log, or -1 when it writes to stderr itself. */
int mw__sys_log_fd(void);
/* A copy of fd above the program's descriptor limit (closing every descriptor it may have does
 * not reach it), or at the top of its range when the hard limit leaves no room above;
 * close-on-exec; -1 when neither can be had. */
int mw__sys_reserve_fd(int fd);
/* Copies len bytes at addr into out without faulting (process_vm_readv on itself): 0, or -1
 * when some of them are not mapped. */
int mw__sys_safe_read(uintptr_t addr, void *out, size_t len);

/* A fixed table of the tracer is full (MW__LEAK_LIMIT_*): says so once on stderr; the report
 * carries the bits. */
void mw__leak_limit(uint32_t bit, const char *what);
uint32_t mw__leak_limits(void);

/* Makes every other running thread execute a full memory barrier (membarrier), so that a hook
 * needs only a compiler barrier between marking itself busy and reading the gate. Returns 0,
 * or -1 when the kernel cannot: hooks then fence themselves (mw__gate_fence). */
int mw__sys_barrier_init(void);
void mw__sys_barrier(void);

/* ---- init.c ---- */
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
    void *(*cxx_new)(size_t);
    void *(*cxx_new_aligned)(size_t, size_t);
};
extern struct mw__leak_real mw__real;

enum mw__leak_state { MW__OFF = 0, MW__STARTING, MW__ON, MW__PASSIVE, MW__DONE };
extern volatile int mw__leak_state;
extern int mw__leak_num_callers;
extern int mw__leak_trace_children;
extern pid_t mw__leak_pid; /* the process the tracer works for (a fork child updates it) */

/* Resolves the real functions and maps the tables (first allocation or the constructor). */
void mw__leak_start(void);
/* Turns tracing off for good after an internal problem, saying why once. */
void mw__leak_disable(const char *why);
/* Reads the options and installs the exit, signal and fork handling (constructor). */
void mw__leak_install(void);
/* The tracer's variables for a program being executed: envp plus whatever of them it lost.
 * Returns envp itself when nothing is missing, else a vector in buf (cap entries). */
char *const *mw__leak_exec_env(char *const *envp, char **buf, size_t cap);
/* popen(command, mode) through f, the real one, with the tracer's variables in the shell's
 * environment when the program dropped them (proc.c). */
FILE *mw__leak_popen(FILE *(*f)(const char *, const char *), const char *command, const char *mode);
/* The main program's path, read at start (readable after the main thread has exited). */
const char *mw__leak_exe(void);

/* ---- pool.c ---- */
extern char mw__pool[];
#define MW__POOL_SIZE (256u << 10)
static inline int mw__in_pool(const void *p)
{
    return (const char *)p >= mw__pool && (const char *)p < mw__pool + MW__POOL_SIZE;
}
void *mw__pool_alloc(size_t n, size_t align);
/* The size of a block of the pool (or of a thread's scratch, laid out alike: the size in the
 * 8 bytes before the block). */
size_t mw__pool_size(const void *p);

/* ---- threads.c ---- */
/* Frees are batched per thread: the blocks' headers are then loaded in parallel instead of one
 * cache miss after another. A batched free has its stack and its kind of release. The batch
 * holds up to MW__DEFER (entry.c sizes it to what the blocks cost). */
#define MW__DEFER   32
#define MW__SCRATCH 2048

struct mw__deferred {
    void *p;
    uint32_t where; /* the stack of the release call */
    uint32_t how;   /* MW__REL_* */
};

enum { MW__PEND_STOP = 1, MW__PEND_SIGNAL = 2 };

/* Per-thread state. */
struct mw__leak_thread {
    volatile int busy;    /* inside a hook: nested calls are forwarded untracked */
    volatile int pending; /* MW__PEND_*: what the thread must do once it leaves the hook */
    int pending_sig;      /* the fatal signal that arrived while busy */
    volatile int parked;  /* stopped for good by the exit check */
    int inited;
    int is_main;
    pid_t tid;
    uintptr_t stack_hi; /* highest address the unwinder may read */
    struct mw__unwind_cache *cache;
    uint32_t free_head, free_tail, free_count; /* this thread's free block slots */
    uint64_t allocs, frees, bytes;             /* memcheck's counters, this thread's share */
    uint64_t seq_next, seq_end;                /* allocation numbers reserved by this thread */
    unsigned ndefer;                           /* frees waiting in defer[] */
    unsigned batch, batches, probe_gap;        /* its size now (0: MW__DEFER), batches flushed,
                                                  the mask between two probes, | 7 (entry.c) */
    struct mw__deferred defer[MW__DEFER];
    uint32_t num; /* the thread's number as memcheck gives them (1: main), for error reports */
    struct mw__prof_thread *prof; /* the heap profile's events waiting for those frees */
    unsigned prof_due;            /* 1 + the batch position of the next waiting one, 0: none */
    /* What the tracer's own libc calls allocate (pthread_getattr_np at thread exit) comes from
     * here while scratch_on, never from the allocator: a block the allocator hands out may be one
     * another thread freed a moment ago and is about to release a second time (a double free
     * racing with the first), which would then release the tracer's memory. */
    unsigned scratch_on, scratch_used;
    _Alignas(16) char scratch[MW__SCRATCH];
};

static inline int mw__in_scratch(const struct mw__leak_thread *t, const void *p)
{
    return (const char *)p >= t->scratch && (const char *)p < t->scratch + MW__SCRATCH;
}

/* The calling thread's state. Not a __thread variable: a TLS block in the preload would grow
 * every thread's DTV and so change what the program allocates (memcheck's preloads have none).
 * The main thread is found with one compare; others through a table keyed by the thread
 * pointer. */
extern struct mw__leak_thread mw__main_thread;
extern uintptr_t mw__main_tp;
struct mw__leak_thread *mw__leak_me_slow(uintptr_t tp);
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

void mw__leak_thread_init(struct mw__leak_thread *t);
/* The thread-exit key (its destructor sees threads exit). */
void mw__threads_init(void);

/* The gate. While fork's prepare handler or the exit check holds it, a thread entering a hook
 * waits (fork) or parks for good (exit) before it touches anything; the holder first waits for
 * the threads already inside a hook to leave. Entering is a store and a compiler barrier: the
 * holder makes the others' stores visible with a membarrier. */
enum { MW__GATE_OPEN = 0, MW__GATE_FORK = 1, MW__GATE_EXIT = 2 };
extern volatile int mw__gate;
extern int mw__gate_fence;
void mw__gate_block(struct mw__leak_thread *t);

/* Marks t inside a hook; passes the gate first unless t is nested in a hook already. */
static inline void mw__enter(struct mw__leak_thread *t)
{
    if (t->busy++)
        return;
    if (__builtin_expect(mw__gate_fence, 0))
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    else
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__builtin_expect(__atomic_load_n(&mw__gate, __ATOMIC_RELAXED), 0))
        mw__gate_block(t);
}

/* What a thread does on its way out of a hook when something arrived while it was busy. */
void mw__leak_pending(struct mw__leak_thread *t);

static inline void mw__leave(struct mw__leak_thread *t)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    t->busy--;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__builtin_expect(t->pending, 0) && !t->busy)
        mw__leak_pending(t);
}

/* Closes the gate for kind on behalf of t (waiting while another holder has it) and waits up to
 * wait_ms for the threads inside a hook to leave. Returns how many are still inside. */
size_t mw__gate_close(struct mw__leak_thread *t, int kind, unsigned wait_ms);
void mw__gate_open(void);
/* How many threads other than t are inside a hook; their tids go to tids (up to max). */
size_t mw__threads_busy(const struct mw__leak_thread *t, pid_t *tids, size_t max);
/* The state of thread tid, or NULL. */
struct mw__leak_thread *mw__threads_find(pid_t tid);
/* The thread whose stack lies in the mapping [lo, hi), or NULL. */
struct mw__leak_thread *mw__threads_stack_owner(uintptr_t lo, uintptr_t hi);

/* Frees t's batch: each release is checked (bad ones reported), the slots go to self's lists;
 * real: the blocks go to the freed-block queue or back to the allocator (not at exit: the
 * process ends, and the allocator may be in any state). */
void mw__leak_flush(struct mw__leak_thread *self, struct mw__leak_thread *t, int real);
/* Flushes every thread's batch into self's lists (exit, the others held by the gate). */
void mw__leak_flush_all(struct mw__leak_thread *self, int real);
/* In a forked child: frees the batches of the threads that did not survive and folds their
 * state. */
void mw__leak_threads_after_fork(void);
/* Adds the counters of every thread that has state to the sums. */
void mw__leak_threads_sum(uint64_t *allocs, uint64_t *frees, uint64_t *bytes);
void mw__threads_lock(void);
void mw__threads_unlock(void);

/* ---- entry.c (and every file with entry points: fds.c, proc.c) ---- */
#define EXPORT __attribute__((visibility("default")))
/* Entry points with the same body would be folded into one by the compiler (identical code
 * folding), and frame 0 of a stack would then name the wrong one (operator new for new[],
 * __libc_malloc for malloc): a distinct empty asm statement keeps each its own. */
#define DISTINCT(name) __asm__ volatile("# " #name)
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
/* Frees p (a tracked block through its header, anything else as it is) on t's account. */
void mw__leak_release(struct mw__leak_thread *t, void *p, int real);

/* ---- errors.c ---- */
struct mw__blkinfo;
/* How a block is released: each expects its own family (MW__ALLOC_*). */
enum { MW__REL_FREE = 0, MW__REL_DELETE = 1, MW__REL_DELETE_ARRAY = 2, MW__REL_REALLOC = 3 };
/* A batched block already released in the tables (realloc moved it): only queued. */
#define MW__REL_DONE 4u
/* 1 when a block of b's family may not be released that way. */
int mw__errors_mismatch(unsigned how, const struct mw__blkinfo *b);
/* A tracked release of p that is no live block of the right family (st, b: what its header
 * says), the call's stack interned as where; fp: the release function's frame, NULL when the
 * release was batched (the frames are gone); nested: locks may be held by a stopped or
 * interrupted thread (only tried, nothing sent live). Reports it; returns 1 when the block must
 * still be released (a mismatch), 0 when the call is dropped. */
int mw__errors_release(struct mw__leak_thread *t, void *p, unsigned how, int st,
                       const struct mw__blkinfo *b, uint32_t where, uintptr_t *fp, int nested);
/* A release nested in the tracer of a block already freed: counted without a stack. */
void mw__errors_nested(struct mw__leak_thread *t, void *p, const struct mw__blkinfo *b);
/* Thread numbers, as memcheck gives them. */
uint32_t mw__errors_thread_number(void);
/* Remembers the name the program starts with (the constructor, in the main thread): a thread
 * with another one took it itself. */
void mw__errors_init_name(void);
void mw__errors_thread_gone(uint32_t num);
void mw__errors_after_fork(struct mw__leak_thread *self);
/* The result's ERRS section: the traces it names, then the section (trace ids through map). */
void mw__errors_traces(void (*use)(uint32_t trace, void *ctx), void *ctx);
void mw__errors_write(void (*put)(const void *, size_t), uint32_t (*map)(uint32_t, void *),
                      void *ctx);
uint64_t mw__errors_dropped(void);

/* ---- fds.c ---- */
extern int mw__fds_mode; /* --track-fds: 0 no, 1 yes, 2 all */
/* Reads the option and lists the descriptors open at start (the inherited ones). */
void mw__fds_init(void);
/* The result's FDS section: lists the descriptors open now and the traces they name, then the
 * section (trace ids through map). */
void mw__fds_traces(void (*use)(uint32_t trace, void *ctx), void *ctx);
void mw__fds_write(void (*put)(const void *, size_t), uint32_t (*map)(uint32_t, void *), void *ctx);

/* ---- freelist.c ---- */
/* The freed-block queue remembers vol bytes of recent frees (0: none); hold: their memory is
 * held back from the allocator too (memcheck's way; cleared). */
void mw__freelist_init(uint64_t vol, int hold);
int mw__freelist_holds(void);
/* Blocks already released in the tables (headers freed): remembered, then given back to the
 * allocator (held: cleared, queued, the oldest given back). At most MW__DEFER at once; bs[i]:
 * what mw__blocks_release said of ps[i], or NULL (its header is read). */
void mw__freelist_put(void *const *ps, const struct mw__blkinfo *const *bs, size_t n);
/* A block the allocator freed itself (a realloc that moved it): remembered. */
void mw__freelist_note(uintptr_t p, uint64_t size, uint32_t ftrace, uint32_t atrace);
/* The remembered block that contains a or lies within margin bytes of it, newest first: 1 with
 * its size and stacks in *out and its address. nested: called where the lock's holder may be
 * interrupted (gives up). */
int mw__freelist_find(uintptr_t a, size_t margin, int nested, struct mw__blkinfo *out,
                      uintptr_t *start);
void mw__freelist_lock(void);
void mw__freelist_unlock(void);

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
    uint32_t kind;        /* MW__ALLOC_*: which family allocated it */
    uint32_t alloc_trace; /* where it was allocated (live, freed) */
    uint32_t free_trace;  /* where it was freed (freed); set by the caller of release */
    uint64_t w1;          /* the header's second word as read (live: what a release expects) */
};

/* The allocation families memcheck tells apart (a release must match). */
enum { MW__ALLOC_MALLOC = 0, MW__ALLOC_NEW = 1, MW__ALLOC_NEW_ARRAY = 2 };

/* What a pointer's header says (mw__blocks_state). */
enum { MW__BLK_NONE = 0, MW__BLK_LIVE, MW__BLK_PLAIN, MW__BLK_FREED };

/* Room the header needs in front of a block, and spare room kept behind it. */
#define MW__HDR  16u
#define MW__TAIL 8u

int mw__blocks_init(void);
/* Registers the block at real + off (off >= MW__HDR, a power of two) of family kind; returns
 * it. */
void *mw__blocks_add(struct mw__leak_thread *t, void *real, size_t off, uint64_t size,
                     uint32_t trace, unsigned kind);
/* Gives the untracked block at real + off a header that free recognises; returns it. */
void *mw__blocks_plain(void *real, size_t off, uint64_t size);
/* 0 when p cannot be a block the tracer handed out: misaligned, or where the allocator never
 * gave memory (its header is not read). */
int mw__blocks_maybe(const void *p);
/* Where the live block in slot was allocated (its alloc_trace is not filled by lookups: the slot
 * is another cache line); a prefetch of that line. */
uint32_t mw__blocks_slot_trace(uint32_t slot);
void mw__blocks_prefetch_slot(uint32_t slot);
/* 1 when the cache line of the slot had to come from far (it took over twice as long to load
 * as to load again), 0 when it was near, -1 when this machine cannot tell (no time stamp
 * counter). Reads the line: it is near afterwards. */
int mw__blocks_slot_cold(uint32_t slot);
/* The program calls prctl(option, arg, ...): once it turns the time stamp counter off
 * (PR_SET_TSC), mw__blocks_slot_cold says -1. */
void mw__blocks_prctl(long option, unsigned long arg);
/* 1 when p carries a valid header (a block the tracer handed out), *out filled. */
int mw__blocks_lookup(const void *p, struct mw__blkinfo *out);
/* What p's header says (MW__BLK_*), *out filled unless NONE. Never faults: memory that never
 * held the allocator's blocks is not read. */
int mw__blocks_state(const void *p, struct mw__blkinfo *out);
/* Frees p's slot and counts a free; the header turns freed (b->free_trace; b->alloc_trace is
 * filled in). b is what mw__blocks_state said of p: returns 0 when p is no longer the live block
 * it saw (another thread released it first), nothing done. */
int mw__blocks_release(struct mw__leak_thread *t, const void *p, struct mw__blkinfo *b);
/* What the header of the freed block p says (size, stacks). */
void mw__blocks_freed(const void *p, struct mw__blkinfo *out);
/* The block p (real: the allocator's pointer) goes back to the allocator: when the allocator
 * unmaps it (glibc's own mappings for large blocks), later reads of its header must not fault. */
void mw__blocks_unmapping(const void *p, const void *real);
/* The allocator's pointer and the size of the block p (its header read as it is). */
void mw__blocks_extent(const void *p, void **real, uint64_t *size);
/* The freed block p goes back to the allocator: its header no longer says freed. */
void mw__blocks_forget(void *p);
/* memcheck counts every release call, valid or not (and a realloc as an allocation too). */
void mw__blocks_count_invalid(struct mw__leak_thread *t, int is_realloc, uint64_t size);
/* The live block that contains a or lies within margin bytes of it (slow: for error
 * descriptions); *start its address. Returns 1 when found. */
int mw__blocks_find(uintptr_t a, size_t margin, struct mw__blkinfo *out, uintptr_t *start);
/* A realloc'd block at its new place (real + b->off): one free and one alloc. */
void *mw__blocks_move(struct mw__leak_thread *t, void *real, const struct mw__blkinfo *b,
                      uint64_t size, uint32_t trace);
/* A thread exits: its free slots and counters go to the shared pool. */
void mw__blocks_thread_done(struct mw__leak_thread *t);
/* In a forked child: a thread that no longer exists gives up its counters and slots. */
void mw__blocks_fold(struct mw__leak_thread *t);
void mw__blocks_totals(uint64_t *allocs, uint64_t *frees, uint64_t *bytes);
/* The allocation number the next block will get (the heap profile's start). */
uint64_t mw__blocks_next_seq(void);
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
/* Captures up to max return addresses of t's stack, starting with the caller of the hook whose
 * frame is given (ip = return address into the caller, sp = the caller's stack pointer after
 * the return, bp = the caller's rbp). Returns the number stored. */
unsigned mw__unwind(struct mw__leak_thread *t, uintptr_t ip, uintptr_t sp, uintptr_t bp,
                    uintptr_t *out, unsigned max);
/* Unwinds from a full register context (a signal's), first frame = ip itself. */
unsigned mw__unwind_from(struct mw__leak_thread *t, uintptr_t ip, uintptr_t sp, uintptr_t bp,
                         uintptr_t *out, unsigned max, uintptr_t stack_hi);
/* The trace id of a hook's stack: frame 0 is pc (in the hook), then the caller (ra, with its
 * sp and rbp). Remembers recent stacks so that a repeated one costs a few compares. */
uint32_t mw__unwind_trace(struct mw__leak_thread *t, uintptr_t pc, uintptr_t ra, uintptr_t sp,
                          uintptr_t bp);
/* Steps one frame (ip, sp, bp of a frame; is_return: ip is a return address) to its caller, and
 * gives the addresses where that frame saved its caller's callee-saved registers. Uncached: for
 * the exit path. Returns 0, or -1 when the frame is unknown. */
int mw__unwind_step_saves(uintptr_t *ip, uintptr_t *sp, uintptr_t *bp, int is_return,
                          uintptr_t *slots, unsigned max, unsigned *nslots);
/* Forgets every cached rule (after dlclose). */
void mw__unwind_flush(void);
void mw__unwind_thread_done(struct mw__leak_thread *t);
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

/* Where stopped threads record their registers: called before the gate closes for exit, since a
 * thread held by the gate parks at once. */
void mw__world_prepare(mw__thread_regs_t *out, size_t max);
/* Stops every other thread of the process (the gate closed for exit by the caller); fills out
 * (at most max). Returns the count; *main_gone is set when the main thread has exited. */
size_t mw__world_stop(mw__thread_regs_t *out, size_t max, int *main_gone);
/* Parks the calling thread for good, its registers recorded, when the exit check runs. */
__attribute__((noreturn)) void mw__world_park_now(void);
/* Thread-exit bookkeeping: remembers the dead thread's stack so the scan ignores it. */
void mw__world_thread_exit(uintptr_t lo, uintptr_t hi);
size_t mw__world_dead_stacks(uintptr_t *lo, uintptr_t *hi, size_t max);
void mw__world_lock(void);
void mw__world_unlock(void);

/* ---- check.c ---- */
struct mw__check_in {
    uintptr_t self_sp; /* where the exiting thread's live stack starts */
    const uintptr_t *self_regs;
    unsigned self_nregs;
    const mw__thread_regs_t *threads;
    size_t nthreads;
    int main_gone; /* the main thread has exited: its stack is no root */
};
struct mw__check_out {
    mw__leak_lossrec_t *recs;
    size_t nrecs;
    uint64_t scan_bytes;
    size_t recs_map_len;
    uint64_t heur_bytes[4], heur_blocks[4]; /* still reachable through each heuristic */
};
int mw__check_run(const struct mw__check_in *in, struct mw__check_out *out);

/* ---- sort.c ---- */
typedef struct mw__pair {
    uint64_t key;
    uint64_t val;
} mw__pair_t;
/* Sorts a by key (heapsort: no allocation, no recursion, bounded time). */
void mw__sort_pairs(mw__pair_t *a, size_t n);

/* ---- modules.c ---- */
typedef struct mw__gone {
    uintptr_t bias, lo, hi;
    const char *path;
} mw__gone_t;

struct dl_phdr_info;
/* The lowest and highest address of an object's PT_LOAD segments; 0 when it has none. */
int mw__modules_extent(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi);
/* Around dlclose: remembers the objects it unloads. */
void mw__modules_before_close(void);
void mw__modules_after_close(void);
/* name made absolute against the working directory when it is a relative path. */
size_t mw__modules_abspath(const char *name, char *buf, size_t len);
/* The objects unloaded so far, oldest first. */
size_t mw__modules_gone(const mw__gone_t **out);
void mw__modules_lock(void);
void mw__modules_unlock(void);

/* ---- wire.c ---- */
/* Opens where the result goes (memwalk's socket, or MEMWALK_OUT by hand) at start. */
void mw__wire_open(int launch_fd);
/* Sends HELLO (the command line) to memwalk. */
void mw__wire_hello(uint16_t flags);
/* Lists the loaded objects now (before the world stops: a stopped thread may hold the loader's
 * lock). Returns -1 when out of memory. */
int mw__wire_modules(void);
/* Writes the result stream. */
void mw__wire_result(int how, int code, const siginfo_t *si, const uintptr_t *fault,
                     uint32_t fault_depth, const struct mw__check_out *res, size_t unstopped);
/* A forked child: the inherited output is its own now. */
void mw__wire_after_fork(void);
/* memwalk's socket when the tracer reports to one and it is still the tracer's, else -1: LIVE
 * messages go there while the program runs. */
int mw__wire_live_fd(void);
/* 1 when the descriptor fd (its fstat in st) is the tracer's own: the report socket. */
int mw__wire_own_fd(int fd, const void *st);
/* Lists the loaded objects and those unloaded since as module records (record.h) into buf;
 * returns the bytes written, *n their number. */
size_t mw__wire_list_modules(char *buf, size_t cap, uint32_t *n);
/* The heap profile's stream (PROFILE messages), written before the result: open (-1 when there
 * is nowhere to write), put its bytes, close (the END message). */
int mw__wire_stream_open(void);
void mw__wire_stream_put(const void *p, size_t n);
void mw__wire_stream_close(void);

/* ---- exit.c ---- */
/* Runs the check and writes the report: how = enum mw__leak_end; self_sp is where the calling
 * thread's live stack starts, regs its registers. Returns 0 when it ran (once per process). */
int mw__exit_report(int how, int code, uintptr_t self_sp, const uintptr_t *regs, unsigned nregs,
                    const siginfo_t *si, const uintptr_t *fault, uint32_t fault_depth);
extern uint32_t mw__exit_flags; /* MW__LEAK_RES_* for the report */
/* The program leaves through _exit/_Exit. */
void mw__exit_now(int status);
void mw__exit_install(void);

/* ---- signals.c ---- */
void mw__signals_install(void);
/* A fatal signal that arrived while t was busy: report and die now. */
__attribute__((noreturn)) void mw__signals_deliver(struct mw__leak_thread *t);

/* ---- fork.c ---- */
void mw__fork_install(void);

#endif
