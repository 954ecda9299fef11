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
 * first thread to use it is registered automatically; any other thread calls
 * mw_gc_register_thread() first (a thread that is not registered and calls into the collector
 * gets a clear message and abort(), never silent corruption). Registered threads are stopped with
 * a signal (MEMWALK_GC_SIGNAL, SIGPWR by default: keep it unblocked in them) while the collector
 * marks; their stacks and registers are roots. The handler is installed with SA_RESTART, but
 * calls that the kernel never restarts (nanosleep, poll, select, epoll_wait, ...) may return
 * EINTR in a registered thread when another one collects. Do not dlclose() a library while
 * another thread may be collecting (the collector reads the list of loaded objects before
 * stopping threads).
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
 */
#ifndef MEMWALK_GC_H
#define MEMWALK_GC_H

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

#ifdef __cplusplus
}
#endif

#endif
