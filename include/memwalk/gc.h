/* memwalk gc: a conservative mark-and-sweep garbage collector for C.
 *
 * Allocate with mw_gc_malloc() and never free: an object stays alive while the program can reach
 * it, and its memory is reused after it became unreachable. The collector finds pointers
 * conservatively: every aligned word in the roots and in reachable scanned objects that holds the
 * address of the start or the inside of an object keeps that object alive. The roots are
 *   - the stack of each thread using the collector, from its stack pointer to its base, with the
 *     callee-saved registers spilled onto it (a pointer held only in a register counts);
 *   - the writable data (.data, .bss) of the program and of every loaded library, including those
 *     opened later with dlopen (their read-only-after-relocation part, RELRO, excepted), and the
 *     calling thread's static thread-local storage;
 *   - the ranges added with mw_gc_add_roots().
 * Not roots: memory from malloc()/mmap() (register it with mw_gc_add_roots() if it holds
 * pointers to collected objects), and the collector's own bookkeeping. The main thread's stack
 * is followed as it grows, whatever its limit (ulimit -s unlimited included). A thread that runs on
 * a stack of its own when a collection comes (makecontext, sigaltstack) has that stack scanned
 * from its stack pointer to the end of the mapping holding it, and all of its own stack; the
 * stacks of suspended coroutines are not roots: add them with mw_gc_add_roots(). A registered
 * stack is never skipped: one that cannot be bounded (no /proc/self/maps to read where it would
 * be needed) stops the program with a message on stderr and abort().
 *
 * A pointer one past the end of an object does not keep that object alive: it is the address of
 * the next object in the page, which it keeps alive instead. Code that holds nothing but an end
 * pointer (rare: a loop cursor outlives its base) must keep the base pointer, or allocate one
 * byte more.
 *
 * False retention. Being conservative, the collector keeps an object alive when any word that
 * looks like a pointer into it remains (a stale stack slot, an integer, a dangling pointer). Two
 * remedies, as in Boehm GC: black-listing (a word met during marking that points into free heap
 * memory, or into a freed huge object's range, makes new blocks avoid that page or range until a
 * collection no longer meets it; scanned small objects and all large ones are placed so, atomic
 * small ones anywhere), and mw_gc_malloc_ignore_off_page() for big arrays. What remains: a stale
 * word that points into an object after it was placed (into a big array from a loop cursor left
 * in a dead stack slot, say) keeps it, and a word into fresh address space the kernel hands out
 * for a new chunk is only seen at the next collection.
 *
 * No initialisation call: the collector sets itself up on first use. It is thread-aware: the
 * first thread to use it is registered automatically; any other thread is started with
 * mw_gc_pthread_create(), or calls mw_gc_register_thread() first (a thread that is not registered
 * and calls into the collector gets a clear message and abort(), never silent corruption).
 * Defining MW_GC_THREADS before including this header makes pthread_create, pthread_join,
 * pthread_detach, pthread_exit, pthread_cancel and pthread_sigmask in that file mean the
 * mw_gc_pthread_* calls below (as GC_THREADS does for Boehm GC's gc.h), so every thread the file
 * starts is registered from its first instruction to its exit.
 *
 * Registered threads are stopped with a signal (MEMWALK_GC_SIGNAL, SIGPWR by default) while the
 * collector marks; their stacks and registers are roots. Registering unblocks that signal in the
 * registering thread (a mask inherited with every signal blocked is fine), and
 * mw_gc_pthread_sigmask() never blocks it. A registered thread that blocks it all the same (with
 * pthread_sigmask or sigprocmask) cannot be stopped: a collection waits for it to let the signal
 * in, says on stderr which thread it waits for and why after a second, and after
 * MEMWALK_GC_STOP_TIMEOUT seconds aborts the program with a message naming the thread, rather
 * than hang. A program that installs its own handler for the signal is told so and aborted at
 * the next collection that must stop a thread (pick another signal with MEMWALK_GC_SIGNAL). The
 * handler is installed with SA_RESTART, but calls that the kernel never restarts (nanosleep,
 * poll, select, epoll_wait, ...) may return EINTR in a registered thread when another one
 * collects. Do not dlclose() a library while another thread may be collecting (the collector
 * reads the list of loaded objects before stopping threads).
 *
 * A thread that is not registered is invisible to the collector: it is never stopped, and its
 * stack, registers and thread-local storage are not roots. It may still use collected memory that
 * registered threads or roots keep reachable for as long as it uses it (an object handed to it
 * and still held by its registered owner, say), but what it alone holds may be freed under it,
 * and it must not store the only pointer to an object anywhere while a collection may run. It
 * must not allocate (that aborts, as above); mw_gc_pthread_create() and mw_gc_pthread_sigmask()
 * need no registration.
 *
 * Marking runs in parallel: the collecting thread and helper threads (one marker per CPU the
 * process may run on, MEMWALK_GC_MARKERS to choose) share the work by stealing from each other's
 * mark stacks. The helpers start at the first collection that follows one finding 16 MiB live or
 * more (MEMWALK_GC_PARALLEL_MIN), take no signals, never run program code and hold no pointers;
 * MEMWALK_GC_MARKERS=1 marks in the collecting thread alone and starts no thread.
 *
 * Environment (read once, at first use; a bad value is reported on stderr and the default kept):
 *   MEMWALK_GC_STATS=1          print the statistics on stderr at exit
 *   MEMWALK_GC_VERBOSE=1        print one line per collection on stderr
 *   MEMWALK_GC_GROWTH=PERCENT   a collection starts when the bytes allocated since the last one
 *                               reach the free space the heap already has, but at least PERCENT
 *                               and at most 2 x PERCENT % of the work of a collection: the live
 *                               scanned bytes, a quarter of the live atomic ones, the roots
 *                               (default 60; 10..10000). The heap grows from the live set, and
 *                               follows it down when it shrinks
 *   MEMWALK_GC_SMALL_GROWTH=SIZE ...or at least 5 x PERCENT % of the work, as long as that stays
 *                               under SIZE (default 8M; K/M/G): a small heap may take a few times
 *                               its live set, and far fewer collections
 *   MEMWALK_GC_MIN_ALLOC=SIZE   ...and never before SIZE bytes were allocated: the floor of a
 *                               tiny heap (default 1M)
 *   MEMWALK_GC_MIN_HEAP=SIZE    ...or later, while live heap plus allocation stay under SIZE
 *                               (default 0: off)
 *   MEMWALK_GC_MAX_HEAP=SIZE    fail allocations (see mw_gc_set_oom_handler) rather than grow the
 *                               heap past SIZE (default 0: no limit)
 *   MEMWALK_GC_UNMAP_AFTER=N    give each free page back to the OS once it stayed free for N
 *                               collections (default 4); a freed huge object's mapping (up to
 *                               32 MiB, 64 MiB in all) is kept as long for a new one, bigger ones
 *                               go back at once
 *   MEMWALK_GC_IGNORE_OFF_PAGE=SIZE  allocate every object of SIZE bytes or more as with
 *                               mw_gc_malloc_ignore_off_page (default 0: off)
 *   MEMWALK_GC_DISABLE=1        never collect automatically (mw_gc_collect() still does)
 *   MEMWALK_GC_MARK_STACK=N     limit the mark stack to N entries (default 0: grows as needed);
 *                               on overflow the collector rescans the heap, so any N >= 16 works
 *   MEMWALK_GC_POISON=1         sweep eagerly and fill freed objects with 0xa5 bytes (debugging)
 *   MEMWALK_GC_CHECK=1          check the page structures around every collection, abort on the
 *                               first inconsistency (debugging)
 *   MEMWALK_GC_SIGNAL=N         the signal that stops registered threads while the collector
 *                               marks (default SIGPWR)
 *   MEMWALK_GC_COLLECT_EVERY=N  also collect at every N-th allocation call (default 0: off); a
 *                               stress setting that makes a program's hidden pointers fail fast
 *   MEMWALK_GC_STOP_TIMEOUT=S   give up (abort, with a message) after S seconds waiting for a
 *                               registered thread that blocks the stop signal (default 10)
 *   MEMWALK_GC_MARKERS=N        threads that mark, the collecting one included (default 0: one
 *                               per CPU the process may run on; 1: no helper thread; at most 256)
 *   MEMWALK_GC_PARALLEL_MIN=B   mark in parallel only once the last collection found B live bytes
 *                               (default 16M; 0: always)
 */
#ifndef MEMWALK_GC_H
#define MEMWALK_GC_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Allocates n bytes (n == 0 gives a distinct minimal object), cleared to zero, scanned for
 * pointers. Returns NULL with errno ENOMEM when no memory can be had and no out-of-memory
 * handler supplied some. The memory is the collector's: do not pass it to free(). */
void *mw_gc_malloc(size_t n);

/* Like mw_gc_malloc for data that holds no pointers (strings, numbers): the collector never scans
 * it, so it keeps nothing alive, and it is NOT cleared (fresh pages are zero, reused ones are not).
 */
void *mw_gc_malloc_atomic(size_t n);

/* Like mw_gc_malloc (and mw_gc_malloc_atomic), for a large object the program promises to keep
 * a pointer to the start of, or into the first 4096 bytes of, for as long as it uses the object:
 * the collector recognises no other pointer into it (Boehm GC's GC_malloc_ignore_off_page and
 * GC_malloc_atomic_ignore_off_page, same contract). A stale word that happens to point into the
 * rest of a big array then cannot keep the array alive, and the collector only needs the first
 * page to be free of stale pointers to place it. Objects of 4096 bytes or less are plain ones.
 * realloc keeps the property. Do not use it for an object reached only through an interior
 * pointer past its first page (a cursor into a buffer whose base was dropped): it would be freed
 * while in use. MEMWALK_GC_IGNORE_OFF_PAGE=SIZE applies it to every allocation of SIZE bytes or
 * more. */
void *mw_gc_malloc_ignore_off_page(size_t n);
void *mw_gc_malloc_atomic_ignore_off_page(size_t n);

/* nmemb * size bytes from mw_gc_malloc (cleared, scanned); NULL with errno ENOMEM on overflow. */
void *mw_gc_calloc(size_t nmemb, size_t size);

/* Resizes p (from mw_gc_malloc or mw_gc_malloc_atomic, which it stays): the contents up to the
 * smaller size are kept, added bytes are zero for a scanned object. NULL p allocates; n == 0
 * frees p and returns NULL. When the object moves, the old one is freed (as with realloc, do not
 * use it again) unless it has a finalizer, in which case the collector keeps it until it is
 * unreachable and finalized. Returns NULL with errno ENOMEM on failure, p then untouched. */
void *mw_gc_realloc(void *p, size_t n);

/* A collected, unscanned copy of the C string s; NULL with errno EINVAL for NULL s. */
char *mw_gc_strdup(const char *s);

/* Frees p at once instead of waiting for the collector: the calling thread's next allocation of
 * its size may return it, and a large one's pages are reused at once (a huge one's memory goes
 * back to the OS, or is kept a few collections for the next huge object, see
 * MEMWALK_GC_UNMAP_AFTER). Explicit frees never put collections off for good: at least an eighth
 * of what is allocated still counts towards the next one. NULL does nothing; p must be the start
 * of a live collected object, else the program is told so and aborted (like a double free). A
 * finalizer set on p is dropped without running. */
void mw_gc_free(void *p);

/* Collects now: marks from all roots, frees the unreachable, then runs the finalizers that became
 * due. Collections also happen by themselves (see MEMWALK_GC_GROWTH). */
void mw_gc_collect(void);

/* Adds [start, start + len) to the roots: the collector scans it for pointers at every collection
 * (for memory it does not own, e.g. from malloc or mmap). Returns 0, -EINVAL for NULL start or
 * len 0, -ENOMEM. */
int mw_gc_add_roots(void *start, size_t len);

/* Removes every root range added with mw_gc_add_roots that lies inside [start, start + len).
 * Returns 0, or -ENOENT when there was none. */
int mw_gc_remove_roots(void *start, size_t len);

/* Called once, with the object and the context given to mw_gc_set_finalizer, after the object
 * was found unreachable; the object's memory stays valid until the finalizer returned (and
 * longer if the finalizer stored a pointer to it somewhere reachable). */
typedef void (*mw_gc_finalizer_fn)(void *obj, void *ctx);

/* Sets (or, with fn NULL, removes) the finalizer of p, which must be the start of a collected
 * object; a second call replaces the first. Finalizers run in the thread that triggered the
 * collection, at the end of mw_gc_collect() or of the allocation call that started it, never
 * inside the collector, so they may allocate and use the collector. Order: when finalizable A
 * reaches finalizable B, A's finalizer runs first and B (and everything A reaches) is kept at
 * least until it has returned. In a cycle of finalizable objects one member (which one is
 * unspecified) is finalized per collection, the others kept for it; a pointer from an object to
 * itself does not count. Returns 0, -EINVAL when p is not the start of a live collected object,
 * -ENOMEM. */
int mw_gc_set_finalizer(void *p, mw_gc_finalizer_fn fn, void *ctx);

typedef struct mw_gc_stats {
    uint64_t collections;     /* collections so far */
    uint64_t heap_bytes;      /* memory held for objects now: in use or free but not yet given
                               * back to the OS */
    uint64_t live_bytes;      /* bytes found reachable by the last collection */
    uint64_t allocated_bytes; /* bytes handed out since the start (slot sizes) */
    uint64_t freed_bytes;     /* bytes freed by collections and mw_gc_free since the start */
    uint64_t pause_total_ns;  /* time spent in collections, all together */
    uint64_t pause_max_ns;    /* the longest collection */
    uint64_t finalizers_run;  /* finalizers called so far */
    uint64_t released_bytes;  /* bytes given back to the OS since the start: free pages and
                               * huge objects' memory */
} mw_gc_stats_t;

/* Fills *stats (a snapshot). */
void mw_gc_get_stats(mw_gc_stats_t *stats);

/* Called with the size of an allocation that failed even after a collection; what it returns
 * (memory of its own, or NULL) is what the failed call returns. NULL restores the default, which
 * returns NULL with errno ENOMEM. Returns the previous handler. */
typedef void *(*mw_gc_oom_fn)(size_t n);
mw_gc_oom_fn mw_gc_set_oom_handler(mw_gc_oom_fn fn);

/* Registers the calling thread: from now on it may use the collector, and its stack and registers
 * are roots. The first thread to use the collector is registered by itself. Call
 * mw_gc_unregister_thread() before the thread exits. Returns 0 (also when already registered),
 * -ENOMEM, or -errno when the thread's stack cannot be found. */
int mw_gc_register_thread(void);

/* Unregisters the calling thread: its stack stops being a root and it may no longer use the
 * collector. Returns 0, or -EINVAL when the thread was not registered. */
int mw_gc_unregister_thread(void);

/* ---- objects the collector does not free, and questions about objects ---------------------- */

/* Like mw_gc_malloc (cleared, scanned), but the object is never collected: it stays until
 * mw_gc_free(), and what it points to stays alive with it (it is a root). For a table of
 * collected pointers kept where the program holds no pointer to it. NULL with errno ENOMEM. */
void *mw_gc_malloc_uncollectable(size_t n);

/* Like mw_gc_malloc_uncollectable for data without pointers: not scanned, not cleared. */
void *mw_gc_malloc_atomic_uncollectable(size_t n);

/* The start of the collected object that p points into (interior pointers included), or NULL when
 * p is not inside one. An object found unreachable but not yet swept may still be reported. */
void *mw_gc_base(const void *p);

/* The usable size of the collected object that p points into: its slot, at least the size asked
 * for (every byte of it may be used). 0 when p is not inside a collected object. */
size_t mw_gc_size(const void *p);

/* ---- weak links ---------------------------------------------------------------------------- */

/* Registers *link as a weak link to obj (the start of a collected object): at the first
 * collection that finds obj unreachable, before any finalizer is chosen, the collector stores
 * NULL in *link and forgets the link. The link itself must not keep obj alive: keep it in memory
 * the collector does not scan (an atomic object, malloc'd memory) or store the address disguised
 * (complemented, say) and read it inside mw_gc_call_locked(), so no collection clears it halfway.
 * The link is also forgotten when the collected object holding it dies; do not mw_gc_free() that
 * object while the link is registered. Returns 0; 1 when link was already registered (with
 * either kind: it now names obj, with this kind); -EINVAL when link is NULL or not aligned to a
 * pointer, or obj is not the start of a collected object; -ENOMEM. */
int mw_gc_weak_link(void **link, const void *obj);

/* Like mw_gc_weak_link, but *link is cleared only when obj is dead for good: while a finalizer
 * due to run can still reach obj (and bring it back), the link stays. Same results. */
int mw_gc_weak_link_long(void **link, const void *obj);

/* Forgets the weak link at link (*link is left as it is). Returns 0, or -ENOENT when none. */
int mw_gc_weak_unlink(void **link);

/* Moves the weak link registered at link to new_link, same object and kind (*new_link is not
 * written). Returns 0 (also when link == new_link and it is registered), -ENOENT when link has
 * none, -EEXIST when new_link already has one, -EINVAL for a misaligned or NULL new_link. */
int mw_gc_weak_move(void **link, void **new_link);

/* Calls fn(arg) with the collector's lock held, so no collection runs meanwhile: the way to turn
 * a disguised weak link back into a pointer safely. fn must not allocate or call the collector.
 * Returns what fn returns. */
void *mw_gc_call_locked(void *(*fn)(void *arg), void *arg);

/* ---- finalizers, more control --------------------------------------------------------------- */

/* Flags of mw_gc_replace_finalizer. */
enum mw_gc_finalizer_flags {
    /* No order: the object's contents do not delay the finalizers of the objects it reaches
     * (they may run in the same collection, in any order). For finalizers that never look at
     * other finalizable objects; it also finalizes cycles at once. */
    MW_GC_FINALIZE_UNORDERED = 1,
};

/* Like mw_gc_set_finalizer, with flags (enum mw_gc_finalizer_flags) and the finalizer it replaces
 * stored in *old_fn and *old_ctx (either may be NULL; set to NULL when there was none; left
 * untouched on error). Returns 0, -EINVAL (p not the start of a live collected object, unknown
 * flag), -ENOMEM. */
int mw_gc_replace_finalizer(void *p, mw_gc_finalizer_fn fn, void *ctx, unsigned flags,
                            mw_gc_finalizer_fn *old_fn, void **old_ctx);

/* Stops automatic collections (allocation then only grows the heap) until as many calls to
 * mw_gc_enable() were made; the calls nest. mw_gc_collect() still collects, and so does an
 * allocation that finds no memory left. */
void mw_gc_disable(void);
void mw_gc_enable(void);

/* 1 while collections are disabled (by mw_gc_disable or MEMWALK_GC_DISABLE), else 0. */
int mw_gc_is_disabled(void);

/* Sets the heap limit of MEMWALK_GC_MAX_HEAP (0: none). A limit below the current heap stops its
 * growth; nothing is given back early. Returns the previous limit. */
size_t mw_gc_set_max_heap(size_t bytes);

/* Grows the heap by at least bytes now (whole pages, zero, not yet touched), so that much can be
 * allocated before the heap has to grow or be collected again. Free pages unused for a few
 * collections go back to the OS as usual (MEMWALK_GC_UNMAP_AFTER). Returns 0, or -ENOMEM when the
 * OS or the heap limit refused (part of it may have been added). */
int mw_gc_expand_heap(size_t bytes);

/* Receives each warning the collector would print on stderr (one line, no prefix, no newline),
 * instead of printing it. It may be called while other threads are stopped for a collection:
 * no stdio, no locks another thread may hold. NULL restores printing. Returns the previous one. */
typedef void (*mw_gc_warn_fn)(const char *msg);
mw_gc_warn_fn mw_gc_set_warn_handler(mw_gc_warn_fn fn);

/* The heap's figures now, more detailed than mw_gc_get_stats. */
typedef struct mw_gc_usage {
    uint64_t heap_bytes;     /* memory held for objects, as in mw_gc_stats_t */
    uint64_t free_bytes;     /* of it, not in use by the objects the last collection kept nor
                              * by those allocated since (an estimate until the next sweep) */
    uint64_t since_gc_bytes; /* bytes handed out since the last collection */
    uint64_t total_bytes;    /* bytes handed out since the start */
} mw_gc_usage_t;

void mw_gc_get_usage(mw_gc_usage_t *usage);

/* 1 when the calling thread is registered with the collector (see mw_gc_register_thread), else
 * 0. */
int mw_gc_thread_is_registered(void);

/* The number of threads that mark during a collection: MEMWALK_GC_MARKERS, or one per CPU the
 * process may run on (fewer when helper threads could not be started); 1 when the collecting
 * thread marks alone. Collections of a heap under 4 MiB always mark in one thread. */
unsigned mw_gc_get_markers(void);

/* ---- threads started for the collector ----------------------------------------------------- */

/* pthread_create() for threads that use the collector: the new thread is registered before
 * start_routine runs (the stop signal unblocked, whatever mask it inherited), arg stays alive
 * until it holds it, and what start_routine returns (or passes to mw_gc_pthread_exit) stays alive
 * until the thread is joined with mw_gc_pthread_join or detached with mw_gc_pthread_detach. A
 * calling thread that is the collector's first user is registered too. Returns 0 or a positive
 * error number, as pthread_create does (also when the thread could not be registered; it then
 * never ran start_routine). */
int mw_gc_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                         void *(*start_routine)(void *), void *arg);

/* pthread_join() and pthread_detach(), which also drop the collector's hold on the thread's
 * return value. Same results as theirs. */
int mw_gc_pthread_join(pthread_t thread, void **retval);
int mw_gc_pthread_detach(pthread_t thread);

/* pthread_exit() that keeps retval alive for the joiner, like a return from start_routine. */
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
void mw_gc_pthread_exit(void *retval);

/* pthread_cancel(). The collector never leaves its lock held or the world stopped when a thread
 * is cancelled: cancellation waits while a thread is inside it. */
int mw_gc_pthread_cancel(pthread_t thread);

#if defined(SIG_BLOCK)
/* pthread_sigmask() that never blocks the collector's stop signal (MEMWALK_GC_SIGNAL): with
 * SIG_BLOCK or SIG_SETMASK the signal is taken out of set first. Same results as
 * pthread_sigmask. */
int mw_gc_pthread_sigmask(int how, const sigset_t *set, sigset_t *oldset);
#endif

#ifdef __cplusplus
}
#endif

/* With MW_GC_THREADS defined, the thread calls of the including file go through the collector
 * (MW_GC_NO_THREAD_REDIRECTS keeps the declarations and drops the renaming). */
#if defined(MW_GC_THREADS) && !defined(MW_GC_NO_THREAD_REDIRECTS)
#undef pthread_create
#undef pthread_join
#undef pthread_detach
#undef pthread_exit
#undef pthread_cancel
#define pthread_create mw_gc_pthread_create
#define pthread_join   mw_gc_pthread_join
#define pthread_detach mw_gc_pthread_detach
#define pthread_exit   mw_gc_pthread_exit
#define pthread_cancel mw_gc_pthread_cancel
#if defined(SIG_BLOCK)
#undef pthread_sigmask
#define pthread_sigmask mw_gc_pthread_sigmask
#endif
#endif

#endif
