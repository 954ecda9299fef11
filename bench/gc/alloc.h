/* The allocator a benchmark is built against, chosen at compile time: BENCH_MEMWALK (the memwalk
 * collector), BENCH_BOEHM (the Boehm-Demers-Weiser collector, defaults) or BENCH_MALLOC (glibc
 * malloc with explicit free). Each benchmark is one source built three times. */
#ifndef BENCH_GC_ALLOC_H
#define BENCH_GC_ALLOC_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

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
#elif defined(BENCH_BOEHM)
#define GC_THREADS /* the same for Boehm GC: its pthread_create redirect */
#include <gc.h>
#define BENCH_NAME          "boehm"
#define BENCH_INIT()        GC_INIT()
#define BENCH_NEW(n)        GC_MALLOC(n)
#define BENCH_NEW_ATOMIC(n) GC_MALLOC_ATOMIC(n)
#define BENCH_FREE(p)       ((void)(p))
#define BENCH_COLLECTED     1
#define BENCH_COLLECT()     GC_gcollect()
#elif defined(BENCH_MALLOC)
#define BENCH_NAME          "malloc"
#define BENCH_INIT()        ((void)0)
#define BENCH_NEW(n)        malloc(n)
#define BENCH_NEW_ATOMIC(n) malloc(n)
#define BENCH_FREE(p)       free(p)
#define BENCH_COLLECTED     0
#define BENCH_COLLECT()     ((void)0)
#else
#error "define BENCH_MEMWALK, BENCH_BOEHM or BENCH_MALLOC"
#endif

static inline double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of the whole process (every thread), for the work a pause does whatever the load. */
static inline double bench_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The one line the runner parses. */
static inline void bench_report(const char *bench, double ms, long checksum)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("bench=%s allocator=%s wall_ms=%.1f maxrss_kb=%ld check=%ld\n", bench, BENCH_NAME, ms,
           ru.ru_maxrss, checksum);
}

static inline void *bench_oom(void)
{
    fprintf(stderr, "%s: out of memory\n", BENCH_NAME);
    exit(3);
}

#endif
