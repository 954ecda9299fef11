/* memwalk's Boehm GC compatible API: the declarations a program written for the
 * Boehm-Demers-Weiser collector needs to build, unchanged, against memwalk's collector
 * (libmemwalk-boehm.so: -lmemwalk-boehm). The names, types, constants and macros are Boehm's,
 * with Boehm's calling conventions, so a binary built against Boehm's own header also runs on
 * libmemwalk-boehm.so (`memwalk gc-run`).
 *
 * What differs is listed in libmemwalk(3), "Moving from Boehm GC": in short, collection is never
 * incremental, every interior pointer is recognised (GC_register_displacement has nothing to
 * add), GC_DEBUG adds no object headers, and a handful of Boehm's functions are not provided.
 * memwalk's own settings (MEMWALK_GC_*, libmemwalk(3)) apply; Boehm's GC_* environment variables
 * do not.
 *
 * Build with -I$(pkg-config --variable=boehmincludedir memwalk): <gc.h> and <gc/gc.h> both work.
 * Define GC_THREADS before including it to have pthread_create and friends go through the
 * collector (GC_NO_THREAD_REDIRECTS keeps the declarations without the redirection). */
#ifndef MEMWALK_BOEHM_GC_GC_H
#define MEMWALK_BOEHM_GC_GC_H

#include <stddef.h>
#include <stdint.h>

/* The Boehm release whose API this follows, and a way to tell memwalk apart. */
#define GC_VERSION_MAJOR 8
#define GC_VERSION_MINOR 2
#define GC_VERSION_MICRO 0
#define GC_MEMWALK       1

#if defined(GC_THREADS) && !defined(GC_PTHREADS)
#define GC_PTHREADS 1
#endif

#ifndef GC_API
#define GC_API extern
#endif
#define GC_CALL
#define GC_CALLBACK
#define GC_ATTR_MALLOC __attribute__((__malloc__))
#ifndef GC_ATTR_ALLOC_SIZE
#define GC_ATTR_ALLOC_SIZE(argnum) __attribute__((__alloc_size__(argnum)))
#endif
#define GC_ATTR_NONNULL(argnum) __attribute__((__nonnull__(argnum)))
#define GC_ATTR_CONST           __attribute__((__const__))
#define GC_ATTR_DEPRECATED      __attribute__((__deprecated__))
#define GC_ATTR_NORETURN        __attribute__((__noreturn__))

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types and constants --------------------------------------------------------------------- */
typedef unsigned long GC_word;
typedef long GC_signed_word;
typedef uintptr_t GC_uintptr_t;
typedef void *GC_PTR;

/* Results of the registration calls. */
#define GC_SUCCESS       0
#define GC_DUPLICATE     1 /* already registered */
#define GC_NO_THREADS    2
#define GC_UNIMPLEMENTED 3
#define GC_NOT_FOUND     4
#define GC_NO_MEMORY     2 /* (the same value as GC_NO_THREADS, as in Boehm's header) */

/* A pointer stored disguised, so the collector does not see it (for weak links). */
typedef GC_word GC_hidden_pointer;
#define GC_HIDE_POINTER(p)      (~(GC_hidden_pointer)(p))
#define GC_REVEAL_POINTER(p)    ((void *)GC_HIDE_POINTER(p))
#define GC_HIDE_NZ_POINTER(p)   GC_HIDE_POINTER(p)
#define GC_REVEAL_NZ_POINTER(p) GC_REVEAL_POINTER(p)

typedef void *(*GC_oom_func)(size_t bytes_requested);
typedef void (*GC_finalization_proc)(void *obj, void *client_data);
typedef void (*GC_warn_proc)(char *msg, GC_word arg);
typedef void *(*GC_fn_type)(void *client_data);
typedef int (*GC_stop_func)(void);

/* A thread's stack as Boehm describes it: its base (highest address on x86-64). */
struct GC_stack_base {
    void *mem_base;
};
typedef void *(*GC_stack_base_func)(struct GC_stack_base *sb, void *arg);

/* ---- initialisation -------------------------------------------------------------------------- */
/* Sets the collector up and registers the calling thread (it also happens at the first
 * allocation). Call GC_INIT() from the main program, as with Boehm. */
GC_API void GC_init(void);
GC_API int GC_is_init_called(void);
GC_API unsigned GC_get_version(void);

#ifdef GC_MAXIMUM_HEAP_SIZE
#define GC_INIT_CONF_MAXIMUM_HEAP_SIZE GC_set_max_heap_size(GC_MAXIMUM_HEAP_SIZE)
#else
#define GC_INIT_CONF_MAXIMUM_HEAP_SIZE ((void)0)
#endif
#ifdef GC_INITIAL_HEAP_SIZE
#define GC_INIT_CONF_INITIAL_HEAP_SIZE                                             \
    do {                                                                           \
        size_t have_ = GC_get_heap_size(), want_ = (size_t)(GC_INITIAL_HEAP_SIZE); \
        if (have_ < want_)                                                         \
            (void)GC_expand_hp(want_ - have_);                                     \
    } while (0)
#else
#define GC_INIT_CONF_INITIAL_HEAP_SIZE ((void)0)
#endif
#ifdef GC_IGNORE_WARN
#define GC_INIT_CONF_IGNORE_WARN GC_set_warn_proc(GC_ignore_warn_proc)
#else
#define GC_INIT_CONF_IGNORE_WARN ((void)0)
#endif

#define GC_INIT()                       \
    do {                                \
        GC_INIT_CONF_MAXIMUM_HEAP_SIZE; \
        GC_init();                      \
        GC_INIT_CONF_INITIAL_HEAP_SIZE; \
        GC_INIT_CONF_IGNORE_WARN;       \
    } while (0)

/* ---- allocation ------------------------------------------------------------------------------ */
/* Collected, cleared, scanned for pointers. One byte is added to each request (unless
 * GC_set_all_interior_pointers(0) came first), so a pointer just past the end keeps the object. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_malloc(size_t size_in_bytes);
/* Collected, not cleared, never scanned (strings, numbers). */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_malloc_atomic(size_t size_in_bytes);
/* Never collected: alive, and a root for what it points to, until GC_free. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_malloc_uncollectable(size_t size_in_bytes);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_malloc_atomic_uncollectable(size_t n);
/* For large objects only pointed to near their start. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_malloc_ignore_off_page(size_t size_in_bytes);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_malloc_atomic_ignore_off_page(size_t n);
/* A list of objects of size_in_bytes linked through their first word (follow it with GC_NEXT);
 * NULL when none could be had. */
GC_API GC_ATTR_MALLOC void *GC_malloc_many(size_t size_in_bytes);
#define GC_NEXT(p) (*(void **)(p))
/* Boehm's old stubborn objects: plain collected objects. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_malloc_stubborn(size_t size_in_bytes);
/* The kind of p is kept; NULL p allocates; size 0 frees p and returns NULL. */
GC_API GC_ATTR_ALLOC_SIZE(2) void *GC_realloc(void *old_object, size_t new_size_in_bytes);
/* Frees at once (optional). NULL, and pointers the collector does not know, are ignored. */
GC_API void GC_free(void *object_addr);
GC_API GC_ATTR_MALLOC char *GC_strdup(const char *str);
GC_API GC_ATTR_MALLOC char *GC_strndup(const char *str, size_t size);
/* Aligned collected memory; the result may point inside its object. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(2) void *GC_memalign(size_t align, size_t lb);
GC_API int GC_posix_memalign(void **memptr, size_t align, size_t lb) GC_ATTR_NONNULL(1);

/* Objects: the start of the one p points into (NULL if none); its size; p when p and q point into
 * the same object (else the program is aborted, as with Boehm). */
GC_API void *GC_base(void *displaced_pointer);
GC_API int GC_is_heap_ptr(const void *p);
GC_API size_t GC_size(const void *object_addr);
GC_API void *GC_same_obj(void *p, void *q);
GC_API void *GC_is_visible(void *p);
GC_API void *GC_is_valid_displacement(void *p);

/* Every interior pointer is recognised: these are accepted and change nothing but the extra
 * byte (see GC_malloc). */
GC_API void GC_register_displacement(size_t offset);
GC_API void GC_debug_register_displacement(size_t offset);
GC_API void GC_set_all_interior_pointers(int value);
GC_API int GC_get_all_interior_pointers(void);

/* Stubborn objects and dirty bits do not exist in memwalk (no incremental collection). */
GC_API void GC_change_stubborn(const void *p);
GC_API void GC_end_stubborn_change(const void *p) GC_ATTR_NONNULL(1);
GC_API void GC_ptr_store_and_dirty(void *p, const void *q);

/* Keeps ptr visible to the collector up to this point of the function. */
#define GC_reachable_here(ptr) __asm__ __volatile__(" " : : "X"(ptr) : "memory")
GC_API void GC_noop1(GC_word x);
GC_API void GC_noop1_ptr(volatile void *p);

/* ---- collection ------------------------------------------------------------------------------ */
/* Collects now (nothing while collections are disabled, as with Boehm). */
GC_API void GC_gcollect(void);
GC_API void GC_gcollect_and_unmap(void);
/* Collects (stop_func is not consulted: a collection is not interrupted). Returns 1. */
GC_API int GC_try_to_collect(GC_stop_func stop_func);
GC_API void GC_disable(void);
GC_API void GC_enable(void);
GC_API int GC_is_disabled(void);
/* Automatic collections off (1) or on (0); GC_gcollect still collects. */
GC_API void GC_set_disable_automatic_collection(int value);
GC_API int GC_get_disable_automatic_collection(void);
/* Not incremental: accepted, no effect; GC_is_incremental_mode() says 0. */
GC_API void GC_enable_incremental(void);
GC_API int GC_is_incremental_mode(void);
/* Leak-finding mode is memwalk leaks' job: always 0. */
GC_API int GC_get_find_leak(void);
GC_API void GC_set_find_leak(int value);
GC_API int GC_get_parallel(void);

/* ---- the heap -------------------------------------------------------------------------------- */
GC_API size_t GC_get_heap_size(void);
GC_API size_t GC_get_free_bytes(void);
GC_API size_t GC_get_unmapped_bytes(void);
GC_API size_t GC_get_bytes_since_gc(void);
GC_API size_t GC_get_total_bytes(void);
GC_API size_t GC_get_memory_use(void);
GC_API GC_word GC_get_gc_no(void);
GC_API void GC_get_heap_usage_safe(GC_word *pheap_size, GC_word *pfree_bytes,
                                   GC_word *punmapped_bytes, GC_word *pbytes_since_gc,
                                   GC_word *ptotal_bytes);
/* Grows the heap by bytes now; 1 on success, 0 when refused. */
GC_API int GC_expand_hp(size_t number_of_bytes);
/* 0: no limit. */
GC_API void GC_set_max_heap_size(GC_word n);

/* Tuning knobs of Boehm's with no counterpart (memwalk's own are MEMWALK_GC_* settings):
 * accepted, no effect; the getters return what was set. */
GC_API void GC_set_free_space_divisor(GC_word value);
GC_API GC_word GC_get_free_space_divisor(void);
GC_API void GC_set_dont_expand(int value);
GC_API int GC_get_dont_expand(void);
GC_API void GC_set_full_freq(int value);
GC_API int GC_get_full_freq(void);
GC_API void GC_set_time_limit(unsigned long value);
GC_API unsigned long GC_get_time_limit(void);
GC_API void GC_set_max_retries(GC_word value);
GC_API GC_word GC_get_max_retries(void);
GC_API void GC_set_dont_precollect(int value);
GC_API int GC_get_dont_precollect(void);
GC_API void GC_set_force_unmap_on_gcollect(int value);
GC_API int GC_get_force_unmap_on_gcollect(void);
GC_API void GC_set_pages_executable(int value);
GC_API int GC_get_pages_executable(void);
GC_API void GC_set_handle_fork(int value);
GC_API void GC_set_markers_count(unsigned markers);

/* ---- roots ----------------------------------------------------------------------------------- */
/* [low, high_plus_1) is scanned at every collection; removing takes the ranges inside. */
GC_API void GC_add_roots(void *low_address, void *high_address_plus_1);
GC_API void GC_remove_roots(void *low_address, void *high_address_plus_1);
GC_API void GC_clear_roots(void);

/* ---- finalizers and weak links --------------------------------------------------------------- */
/* fn(obj, cd) runs once after obj was found unreachable; fn NULL removes it; the previous one is
 * stored in *ofn, *ocd (either may be NULL). A pointer from obj to itself never delays it (in all
 * three forms); _no_order lets obj's contents not delay the finalizers of what it reaches. */
GC_API void GC_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                                  GC_finalization_proc *ofn, void **ocd) GC_ATTR_NONNULL(1);
GC_API void GC_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                              GC_finalization_proc *ofn, void **ocd)
    GC_ATTR_NONNULL(1);
GC_API void GC_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
                                           GC_finalization_proc *ofn, void **ocd)
    GC_ATTR_NONNULL(1);
/* Finalizers run by themselves, at the end of the allocation or GC_gcollect that found them due:
 * there is never one waiting for GC_invoke_finalizers (which returns 0). */
GC_API int GC_should_invoke_finalizers(void);
GC_API int GC_invoke_finalizers(void);
GC_API void GC_set_finalize_on_demand(int value);
GC_API int GC_get_finalize_on_demand(void);
GC_API void GC_set_java_finalization(int value);
GC_API int GC_get_java_finalization(void);

/* *link becomes NULL when obj is found unreachable (before finalization; for long links, once it
 * is dead for good). A link is registered once, short or long. Results: GC_SUCCESS, GC_DUPLICATE
 * (already registered: it now names obj), GC_NO_MEMORY; unregister returns 1 if it was
 * registered, else 0; move returns GC_SUCCESS, GC_NOT_FOUND or GC_DUPLICATE. */
GC_API int GC_register_disappearing_link(void **link) GC_ATTR_NONNULL(1);
GC_API int GC_general_register_disappearing_link(void **link, const void *obj) GC_ATTR_NONNULL(1)
    GC_ATTR_NONNULL(2);
GC_API int GC_move_disappearing_link(void **link, void **new_link) GC_ATTR_NONNULL(2);
GC_API int GC_unregister_disappearing_link(void **link);
GC_API int GC_register_long_link(void **link, const void *obj) GC_ATTR_NONNULL(1)
    GC_ATTR_NONNULL(2);
GC_API int GC_move_long_link(void **link, void **new_link) GC_ATTR_NONNULL(2);
GC_API int GC_unregister_long_link(void **link);

/* Runs fn(client_data) with the collector's lock held (no collection meanwhile); fn must not
 * allocate. */
GC_API void *GC_call_with_alloc_lock(GC_fn_type fn, void *client_data) GC_ATTR_NONNULL(1);

/* ---- messages and out of memory -------------------------------------------------------------- */
/* The warning procedure gets each collector warning as msg (a printf format with no conversion
 * left but "%%"), arg 0. */
GC_API void GC_set_warn_proc(GC_warn_proc p);
GC_API GC_warn_proc GC_get_warn_proc(void);
GC_API void GC_ignore_warn_proc(char *msg, GC_word arg);
/* Called with the size of an allocation that failed; what it returns is returned. */
GC_API void GC_set_oom_fn(GC_oom_func fn);
GC_API GC_oom_func GC_get_oom_fn(void);

/* ---- threads --------------------------------------------------------------------------------- */
/* memwalk always allows registering threads; GC_register_my_thread registers the calling thread
 * (its stack is found without sb), GC_DUPLICATE if it was. */
GC_API void GC_allow_register_threads(void);
GC_API int GC_register_my_thread(const struct GC_stack_base *sb) GC_ATTR_NONNULL(1);
GC_API int GC_unregister_my_thread(void);
GC_API int GC_thread_is_registered(void);
/* The signal that stops registered threads while the collector marks (MEMWALK_GC_SIGNAL). */
GC_API int GC_get_suspend_signal(void);
GC_API int GC_get_stack_base(struct GC_stack_base *sb) GC_ATTR_NONNULL(1);
GC_API void *GC_call_with_stack_base(GC_stack_base_func fn, void *arg) GC_ATTR_NONNULL(1);
GC_API void *GC_do_blocking(GC_fn_type fn, void *client_data) GC_ATTR_NONNULL(1);
GC_API void *GC_call_with_gc_active(GC_fn_type fn, void *client_data) GC_ATTR_NONNULL(1);

#if defined(GC_PTHREADS) && !defined(GC_NO_THREAD_DECLS)
#ifdef __cplusplus
}
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#ifdef __cplusplus
extern "C" {
#endif
/* pthread_create for threads that use the collector: registered before start_routine runs,
 * unregistered when it returns or calls pthread_exit. */
GC_API int GC_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                             void *(*start_routine)(void *), void *arg);
GC_API int GC_pthread_join(pthread_t thread, void **retval);
GC_API int GC_pthread_detach(pthread_t thread);
GC_API int GC_pthread_cancel(pthread_t thread);
GC_API void GC_pthread_exit(void *retval) GC_ATTR_NORETURN;
/* pthread_sigmask that never blocks the signal the collector stops threads with. */
GC_API int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *oset);
GC_API void *GC_dlopen(const char *path, int mode);
#endif

/* ---- the debugging forms (GC_DEBUG): the same objects, no headers ---------------------------- */
#define GC_RETURN_ADDR  ((GC_word)__builtin_return_address(0))
#define GC_EXTRAS       GC_RETURN_ADDR, __FILE__, __LINE__
#define GC_EXTRA_PARAMS GC_word ra, const char *s, int i

GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_debug_malloc(size_t n, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_debug_malloc_atomic(size_t n, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_debug_malloc_uncollectable(size_t n,
                                                                                GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC
    GC_ATTR_ALLOC_SIZE(1) void *GC_debug_malloc_atomic_uncollectable(size_t n, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_debug_malloc_ignore_off_page(size_t n,
                                                                                  GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC
    GC_ATTR_ALLOC_SIZE(1) void *GC_debug_malloc_atomic_ignore_off_page(size_t n, GC_EXTRA_PARAMS);
GC_API GC_ATTR_ALLOC_SIZE(2) void *GC_debug_realloc(void *p, size_t n, GC_EXTRA_PARAMS);
GC_API void GC_debug_free(void *p);
GC_API GC_ATTR_MALLOC char *GC_debug_strdup(const char *str, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC char *GC_debug_strndup(const char *str, size_t n, GC_EXTRA_PARAMS);
GC_API void GC_debug_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                                        GC_finalization_proc *ofn, void **ocd) GC_ATTR_NONNULL(1);
GC_API void GC_debug_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                                    GC_finalization_proc *ofn, void **ocd)
    GC_ATTR_NONNULL(1);
GC_API void GC_debug_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
                                                 GC_finalization_proc *ofn, void **ocd)
    GC_ATTR_NONNULL(1);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_debug_malloc_stubborn(size_t n,
                                                                           GC_EXTRA_PARAMS);
GC_API void GC_debug_change_stubborn(const void *p);
GC_API void GC_debug_end_stubborn_change(const void *p) GC_ATTR_NONNULL(1);
GC_API void GC_debug_ptr_store_and_dirty(void *p, const void *q);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_debug_malloc_replacement(size_t n);
GC_API GC_ATTR_ALLOC_SIZE(2) void *GC_debug_realloc_replacement(void *p, size_t n);

/* ---- the macros programs use ----------------------------------------------------------------- */
#ifdef GC_DEBUG
#define GC_MALLOC(sz)                          GC_debug_malloc(sz, GC_EXTRAS)
#define GC_MALLOC_ATOMIC(sz)                   GC_debug_malloc_atomic(sz, GC_EXTRAS)
#define GC_MALLOC_UNCOLLECTABLE(sz)            GC_debug_malloc_uncollectable(sz, GC_EXTRAS)
#define GC_MALLOC_ATOMIC_UNCOLLECTABLE(sz)     GC_debug_malloc_atomic_uncollectable(sz, GC_EXTRAS)
#define GC_MALLOC_IGNORE_OFF_PAGE(sz)          GC_debug_malloc_ignore_off_page(sz, GC_EXTRAS)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(sz)   GC_debug_malloc_atomic_ignore_off_page(sz, GC_EXTRAS)
#define GC_REALLOC(old, sz)                    GC_debug_realloc(old, sz, GC_EXTRAS)
#define GC_FREE(p)                             GC_debug_free(p)
#define GC_STRDUP(s)                           GC_debug_strdup(s, GC_EXTRAS)
#define GC_STRNDUP(s, sz)                      GC_debug_strndup(s, sz, GC_EXTRAS)
#define GC_REGISTER_FINALIZER(p, f, d, of, od) GC_debug_register_finalizer(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) \
    GC_debug_register_finalizer_ignore_self(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) \
    GC_debug_register_finalizer_no_order(p, f, d, of, od)
#define GC_REGISTER_DISPLACEMENT(n)  GC_debug_register_displacement(n)
#define GC_END_STUBBORN_CHANGE(p)    GC_debug_end_stubborn_change(p)
#define GC_PTR_STORE_AND_DIRTY(p, q) GC_debug_ptr_store_and_dirty(p, q)
#else
#define GC_MALLOC(sz)                          GC_malloc(sz)
#define GC_MALLOC_ATOMIC(sz)                   GC_malloc_atomic(sz)
#define GC_MALLOC_UNCOLLECTABLE(sz)            GC_malloc_uncollectable(sz)
#define GC_MALLOC_ATOMIC_UNCOLLECTABLE(sz)     GC_malloc_atomic_uncollectable(sz)
#define GC_MALLOC_IGNORE_OFF_PAGE(sz)          GC_malloc_ignore_off_page(sz)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(sz)   GC_malloc_atomic_ignore_off_page(sz)
#define GC_REALLOC(old, sz)                    GC_realloc(old, sz)
#define GC_FREE(p)                             GC_free(p)
#define GC_STRDUP(s)                           GC_strdup(s)
#define GC_STRNDUP(s, sz)                      GC_strndup(s, sz)
#define GC_REGISTER_FINALIZER(p, f, d, of, od) GC_register_finalizer(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) \
    GC_register_finalizer_ignore_self(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) \
    GC_register_finalizer_no_order(p, f, d, of, od)
#define GC_REGISTER_DISPLACEMENT(n)  GC_register_displacement(n)
#define GC_END_STUBBORN_CHANGE(p)    GC_end_stubborn_change(p)
#define GC_PTR_STORE_AND_DIRTY(p, q) GC_ptr_store_and_dirty(p, q)
#endif

#define GC_NEW(t)               ((t *)GC_MALLOC(sizeof(t)))
#define GC_NEW_ATOMIC(t)        ((t *)GC_MALLOC_ATOMIC(sizeof(t)))
#define GC_NEW_UNCOLLECTABLE(t) ((t *)GC_MALLOC_UNCOLLECTABLE(sizeof(t)))
#define GC_GENERAL_REGISTER_DISAPPEARING_LINK(link, obj) \
    GC_general_register_disappearing_link(link, obj)
#define GC_REGISTER_LONG_LINK(link, obj) GC_register_long_link(link, obj)

#ifdef __cplusplus
}
#endif

/* The thread redirections come last, after every declaration that names a pthread function. */
#if defined(GC_PTHREADS) && !defined(GC_NO_THREAD_REDIRECTS)
#undef pthread_create
#undef pthread_join
#undef pthread_detach
#undef pthread_cancel
#undef pthread_exit
#undef pthread_sigmask
#define pthread_create  GC_pthread_create
#define pthread_join    GC_pthread_join
#define pthread_detach  GC_pthread_detach
#define pthread_cancel  GC_pthread_cancel
#define pthread_exit    GC_pthread_exit
#define pthread_sigmask GC_pthread_sigmask
#endif

#endif
