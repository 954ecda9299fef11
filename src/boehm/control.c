/* Boehm's initialisation, collection control, heap figures, roots, warnings and out-of-memory
 * handling on memwalk's calls; Boehm's tuning knobs that have no counterpart. */
#include "boehm/boehm.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int init_called;
static int gc_disabled; /* GC_disable depth: GC_gcollect does nothing meanwhile, as with Boehm */

void GC_init(void)
{
    /* Registers the calling thread (the first one is registered by any call; another one that
     * calls GC_init means to use the collector). */
    (void)mw_gc_register_thread();
    __atomic_store_n(&init_called, 1, __ATOMIC_RELEASE);
}

int GC_is_init_called(void)
{
    return __atomic_load_n(&init_called, __ATOMIC_ACQUIRE);
}

unsigned GC_get_version(void)
{
    return (GC_VERSION_MAJOR << 16) | (GC_VERSION_MINOR << 8) | GC_VERSION_MICRO;
}

void GC_gcollect(void)
{
    if (!__atomic_load_n(&gc_disabled, __ATOMIC_RELAXED))
        mw_gc_collect();
}

void GC_gcollect_and_unmap(void)
{
    GC_gcollect();
}

int GC_try_to_collect(GC_stop_func stop_func)
{
    (void)stop_func;
    if (__atomic_load_n(&gc_disabled, __ATOMIC_RELAXED))
        return 0;
    mw_gc_collect();
    return 1;
}

void GC_disable(void)
{
    __atomic_add_fetch(&gc_disabled, 1, __ATOMIC_RELAXED);
    mw_gc_disable();
}

void GC_enable(void)
{
    int depth = __atomic_load_n(&gc_disabled, __ATOMIC_RELAXED);

    /* An unmatched GC_enable is ignored (Boehm would underflow its counter). */
    while (depth > 0 && !__atomic_compare_exchange_n(&gc_disabled, &depth, depth - 1, 0,
                                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    if (depth > 0)
        mw_gc_enable();
}

int GC_is_disabled(void)
{
    return mw_gc_is_disabled();
}

static int automatic_off;

void GC_set_disable_automatic_collection(int value)
{
    int was = __atomic_exchange_n(&automatic_off, !!value, __ATOMIC_ACQ_REL);

    if (value && !was)
        mw_gc_disable();
    else if (!value && was)
        mw_gc_enable();
}

int GC_get_disable_automatic_collection(void)
{
    return __atomic_load_n(&automatic_off, __ATOMIC_ACQUIRE);
}

void GC_enable_incremental(void)
{
}

int GC_is_incremental_mode(void)
{
    return 0;
}

int GC_get_find_leak(void)
{
    return 0;
}

void GC_set_find_leak(int value)
{
    if (value)
        mw__boehm_warn("GC_set_find_leak: memwalk has no leak-finding mode (memwalk leaks finds "
                       "leaks without it); ignored");
}

/* As Boehm's: true when collections mark with more than one thread. */
int GC_get_parallel(void)
{
    return mw_gc_get_markers() > 1;
}

/* ---- the heap ------------------------------------------------------------------------------ */

static mw_gc_usage_t usage(void)
{
    mw_gc_usage_t u;

    mw_gc_get_usage(&u);
    return u;
}

size_t GC_get_heap_size(void)
{
    return (size_t)usage().heap_bytes;
}

size_t GC_get_free_bytes(void)
{
    return (size_t)usage().free_bytes;
}

size_t GC_get_unmapped_bytes(void)
{
    /* Pages given back to the OS are no longer counted in the heap size. */
    return 0;
}

size_t GC_get_bytes_since_gc(void)
{
    return (size_t)usage().since_gc_bytes;
}

size_t GC_get_total_bytes(void)
{
    return (size_t)usage().total_bytes;
}

size_t GC_get_memory_use(void)
{
    mw_gc_usage_t u = usage();
    return (size_t)(u.heap_bytes - u.free_bytes);
}

GC_word GC_get_gc_no(void)
{
    mw_gc_stats_t s;

    mw_gc_get_stats(&s);
    return (GC_word)s.collections;
}

void GC_get_heap_usage_safe(GC_word *heap, GC_word *free_bytes, GC_word *unmapped,
                            GC_word *since_gc, GC_word *total)
{
    mw_gc_usage_t u = usage();

    if (heap)
        *heap = (GC_word)u.heap_bytes;
    if (free_bytes)
        *free_bytes = (GC_word)u.free_bytes;
    if (unmapped)
        *unmapped = 0;
    if (since_gc)
        *since_gc = (GC_word)u.since_gc_bytes;
    if (total)
        *total = (GC_word)u.total_bytes;
}

int GC_expand_hp(size_t bytes)
{
    return mw_gc_expand_heap(bytes) == 0;
}

void GC_set_max_heap_size(GC_word n)
{
    (void)mw_gc_set_max_heap((size_t)n);
}

/* Knobs without a counterpart: kept so the program reads back what it set. */
static GC_word free_space_divisor = 3, max_retries;
static int dont_expand, full_freq = 19, dont_precollect, force_unmap, pages_executable;
static unsigned long time_limit = 50;

void GC_set_free_space_divisor(GC_word value)
{
    free_space_divisor = value;
}

GC_word GC_get_free_space_divisor(void)
{
    return free_space_divisor;
}

void GC_set_dont_expand(int value)
{
    dont_expand = value;
}

int GC_get_dont_expand(void)
{
    return dont_expand;
}

void GC_set_full_freq(int value)
{
    full_freq = value;
}

int GC_get_full_freq(void)
{
    return full_freq;
}

void GC_set_time_limit(unsigned long value)
{
    time_limit = value;
}

unsigned long GC_get_time_limit(void)
{
    return time_limit;
}

void GC_set_max_retries(GC_word value)
{
    max_retries = value;
}

GC_word GC_get_max_retries(void)
{
    return max_retries;
}

void GC_set_dont_precollect(int value)
{
    dont_precollect = value;
}

int GC_get_dont_precollect(void)
{
    return dont_precollect;
}

void GC_set_force_unmap_on_gcollect(int value)
{
    force_unmap = value;
}

int GC_get_force_unmap_on_gcollect(void)
{
    return force_unmap;
}

void GC_set_pages_executable(int value)
{
    pages_executable = value;
}

int GC_get_pages_executable(void)
{
    return pages_executable;
}

void GC_set_handle_fork(int value)
{
    (void)value; /* memwalk always handles fork */
}

void GC_set_markers_count(unsigned markers)
{
    (void)markers;
}

/* ---- roots ----------------------------------------------------------------------------------- */

void GC_add_roots(void *low, void *high_plus_1)
{
    if ((char *)high_plus_1 > (char *)low &&
        mw_gc_add_roots(low, (size_t)((char *)high_plus_1 - (char *)low)) < 0)
        mw__boehm_fatal("GC_add_roots: out of memory for the root table");
}

void GC_remove_roots(void *low, void *high_plus_1)
{
    if ((char *)high_plus_1 > (char *)low)
        (void)mw_gc_remove_roots(low, (size_t)((char *)high_plus_1 - (char *)low));
}

void GC_clear_roots(void)
{
    (void)mw_gc_remove_roots(NULL, SIZE_MAX);
}

/* ---- warnings, out of memory, fatal errors ------------------------------------------------- */

/* Writes without stdio: a warning may come while other threads are stopped, one of them holding
 * stderr's lock. */
static void write_line(const char *prefix, const char *msg)
{
    (void)!write(2, prefix, strlen(prefix));
    (void)!write(2, msg, strlen(msg));
    if (!*msg || msg[strlen(msg) - 1] != '\n')
        (void)!write(2, "\n", 1);
}

/* The default warning procedure: msg as memwalk prints its warnings ("%%" back to "%"). */
static void default_warn(char *msg, GC_word arg)
{
    char buf[600];
    size_t i, j;

    (void)arg;
    for (i = j = 0; msg[i] && j < sizeof buf - 1; i++, j++) {
        buf[j] = msg[i];
        if (msg[i] == '%' && msg[i + 1] == '%')
            i++;
    }
    buf[j] = '\0';
    write_line("memwalk gc: ", buf);
}

static GC_warn_proc warn_proc = default_warn;

void mw__boehm_warn(const char *msg)
{
    /* Boehm's procedures print msg as a printf format with one argument, then nothing: double
     * every '%', end with a newline. */
    char buf[1200];
    size_t i, j;
    GC_warn_proc p = __atomic_load_n(&warn_proc, __ATOMIC_ACQUIRE);

    for (i = j = 0; msg[i] && j < sizeof buf - 3; i++) {
        buf[j++] = msg[i];
        if (msg[i] == '%')
            buf[j++] = '%';
    }
    buf[j++] = '\n';
    buf[j] = '\0';
    p(buf, 0);
}

void GC_set_warn_proc(GC_warn_proc p)
{
    if (!p)
        return;
    __atomic_store_n(&warn_proc, p, __ATOMIC_RELEASE);
    /* memwalk's warnings reach the procedure from now on. */
    (void)mw_gc_set_warn_handler(p == default_warn ? NULL : mw__boehm_warn);
}

GC_warn_proc GC_get_warn_proc(void)
{
    return __atomic_load_n(&warn_proc, __ATOMIC_ACQUIRE);
}

void GC_ignore_warn_proc(char *msg, GC_word arg)
{
    (void)msg;
    (void)arg;
}

/* Boehm's default: the failed call returns NULL. */
static void *default_oom(size_t n)
{
    (void)n;
    return NULL;
}

static GC_oom_func oom_fn = default_oom;

void *mw__boehm_oom(size_t n)
{
    return __atomic_load_n(&oom_fn, __ATOMIC_ACQUIRE)(n);
}

/* memwalk's handler: memwalk was asked for the extra byte too. */
static void *oom_from_memwalk(size_t n)
{
    return mw__boehm_oom(n > (size_t)mw__boehm_extra ? n - (size_t)mw__boehm_extra : n);
}

void GC_set_oom_fn(GC_oom_func fn)
{
    if (!fn)
        return;
    __atomic_store_n(&oom_fn, fn, __ATOMIC_RELEASE);
    (void)mw_gc_set_oom_handler(fn == default_oom ? NULL : oom_from_memwalk);
}

GC_oom_func GC_get_oom_fn(void)
{
    return __atomic_load_n(&oom_fn, __ATOMIC_ACQUIRE);
}

void mw__boehm_fatal(const char *what)
{
    write_line("memwalk gc: fatal: ", what);
    abort();
}
