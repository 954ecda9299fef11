/* The allocator a benchmark is built against, chosen at compile time: BENCH_MEMWALK (the memwalk
 * collector), BENCH_BOEHM (the Boehm-Demers-Weiser collector, defaults) or BENCH_MALLOC (glibc
 * malloc with explicit free). Each benchmark is one source built three times. */
#ifndef BENCH_GC_ALLOC_H
#define BENCH_GC_ALLOC_H

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#if defined(BENCH_MEMWALK)
#define MW_GC_THREADS /* pthread_create registers the threads it starts */
#include <memwalk/gc.h>
#define BENCH_NAME          "memwalk"
#define BENCH_INIT()        ((void)0)
#define BENCH_NEW(n)        mw_gc_malloc(n)
#define BENCH_NEW_ATOMIC(n) mw_gc_malloc_atomic(n)
#define BENCH_FREE(p)       ((void)(p))
#define BENCH_COLLECTED     1
#define BENCH_COLLECT()     mw_gc_collect()
/* An explicit free and realloc, for the programs that measure them. */
#define BENCH_EXPLICIT_FREE(p) mw_gc_free(p)
#define BENCH_REALLOC(p, n)    mw_gc_realloc(p, n)
static inline long bench_heap_kb(void)
{
    mw_gc_stats_t s;
    mw_gc_get_stats(&s);
    return (long)(s.heap_bytes >> 10);
}
static inline long bench_collections(void)
{
    mw_gc_stats_t s;
    mw_gc_get_stats(&s);
    return (long)s.collections;
}
#elif defined(BENCH_BOEHM)
#define GC_THREADS /* the same for Boehm GC: its pthread_create redirect */
#include <gc.h>
#define BENCH_NAME             "boehm"
#define BENCH_INIT()           GC_INIT()
#define BENCH_NEW(n)           GC_MALLOC(n)
#define BENCH_NEW_ATOMIC(n)    GC_MALLOC_ATOMIC(n)
#define BENCH_FREE(p)          ((void)(p))
#define BENCH_COLLECTED        1
#define BENCH_COLLECT()        GC_gcollect()
#define BENCH_EXPLICIT_FREE(p) GC_FREE(p)
#define BENCH_REALLOC(p, n)    GC_REALLOC(p, n)
static inline long bench_heap_kb(void)
{
    return (long)(GC_get_heap_size() >> 10);
}
static inline long bench_collections(void)
{
    return (long)GC_get_gc_no();
}
#elif defined(BENCH_MALLOC)
#define BENCH_NAME             "malloc"
#define BENCH_INIT()           ((void)0)
#define BENCH_NEW(n)           malloc(n)
#define BENCH_NEW_ATOMIC(n)    malloc(n)
#define BENCH_FREE(p)          free(p)
#define BENCH_COLLECTED        0
#define BENCH_COLLECT()        ((void)0)
#define BENCH_EXPLICIT_FREE(p) free(p)
#define BENCH_REALLOC(p, n)    realloc(p, n)
static inline long bench_heap_kb(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long)((mi.arena + mi.hblkhd) >> 10);
}
static inline long bench_collections(void)
{
    return 0;
}
#else
#error "define BENCH_MEMWALK, BENCH_BOEHM or BENCH_MALLOC"
#endif

static inline double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Peak resident memory so far, in KiB: VmHWM of /proc/self/status, the peak of this program's own
 * address space. (getrusage's ru_maxrss is not reset by exec: a program started by a 14 MiB
 * Python runner would report at least 14 MiB.) */
static inline long bench_maxrss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    struct rusage ru;

    if (f) {
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
                break;
        fclose(f);
    }
    if (kb >= 0)
        return kb;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* CPU time of the whole process (every thread), in ms: steadier than wall time on a loaded
 * machine, and the work a pause does whatever the load. */
static inline double bench_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The one line the runner parses. */
static inline void bench_report(const char *bench, double ms, long checksum)
{
    printf("bench=%s allocator=%s wall_ms=%.1f cpu_ms=%.1f maxrss_kb=%ld check=%ld\n", bench,
           BENCH_NAME, ms, bench_cpu_ms(), bench_maxrss_kb(), checksum);
}

/* Resident memory now (not the peak), in KiB, from /proc/self/statm. */
static inline long bench_rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static inline void *bench_oom(void)
{
    fprintf(stderr, "%s: out of memory\n", BENCH_NAME);
    exit(3);
}

#endif
