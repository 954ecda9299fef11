/* False retention: programs built to make a conservative collector keep dead objects, and a count
 * of how many it kept. Each round allocates objects with a finalizer, drops them, collects a few
 * times and counts the finalizers that never ran.
 *
 *   retention huge ROUNDS     a 256 MiB scanned array filled and summed through a moving pointer,
 *                             then dropped (the case: any stale word into its range pins
 *                             it when interior pointers are recognised everywhere)
 *   retention stale ROUNDS    a live table holds dangling interior pointers into 64 MiB of small
 *                             objects and into a 64 MiB object, all freed explicitly; then each
 *                             round allocates and drops 64 objects of 256 KiB and one of 64 MiB:
 *                             the ones placed where a stale word points are pinned (what
 *                             black-listing avoids)
 *   retention offpage ROUNDS  like huge, but allocated with the ignore-off-page call (memwalk:
 *                             mw_gc_malloc_ignore_off_page; Boehm: GC_malloc_ignore_off_page)
 *                             while a pointer into its middle stays live
 *
 * Prints the result line with retained=N of objects=M, the heap at the end and the peak RSS. */
#include "alloc.h"

#include <stdint.h>

#if defined(BENCH_MEMWALK)
static void fin(void *obj, void *ctx)
{
    (void)obj;
    ++*(long *)ctx;
}
#define SET_FINALIZER(p, ctx) mw_gc_set_finalizer(p, fin, ctx)
#define NEW_OFF_PAGE(n)       mw_gc_malloc_ignore_off_page(n)
#elif defined(BENCH_BOEHM)
static void GC_CALLBACK fin(void *obj, void *ctx)
{
    (void)obj;
    ++*(long *)ctx;
}
#define SET_FINALIZER(p, ctx) GC_REGISTER_FINALIZER(p, fin, ctx, NULL, NULL)
#define NEW_OFF_PAGE(n)       GC_MALLOC_IGNORE_OFF_PAGE(n)
#else
#error "retention needs a collector"
#endif

#define HUGE_BYTES ((size_t)256 << 20)

static long finalized;

static void collect_a_few(void)
{
    for (int i = 0; i < 3; i++)
        BENCH_COLLECT();
}

/* ---- huge ---- */
static long __attribute__((noinline)) use_huge(int offpage, long **middle)
{
    long n = (long)(HUGE_BYTES / sizeof(long)), sum = 0;
    long *a = offpage ? NEW_OFF_PAGE(HUGE_BYTES) : BENCH_NEW(HUGE_BYTES);

    if (!a)
        bench_oom();
    SET_FINALIZER(a, &finalized);
    for (long *p = a; p < a + n; p++)
        *p = p - a;
    for (long *p = a + n; p-- > a;)
        sum += *p;
    if (middle)
        *middle = a + n / 2;
    return sum;
}

static long round_huge(int offpage)
{
    static long *volatile middle; /* a live pointer into the object's middle: no longer a
                                   * reference once the program said so */
    long sum = use_huge(offpage, offpage ? (long **)&middle : NULL);
    (void)sum;
    collect_a_few();
    return 1;
}

/* ---- stale ---- */
#define STALE_WORDS 4096
#define CELLS       ((64L << 20) / 64)
#define STALE_HUGE  ((size_t)64 << 20)

static uintptr_t *stale; /* scanned, live: dangling interior pointers into freed memory */

/* 64 MiB of 64-byte cells, and a 64 MiB huge object, freed explicitly while a live table keeps
 * dangling interior pointers into them (a use-after-free waiting to happen, or integers that
 * merely look like such pointers): their pages and their address range are free, and stale words
 * point there. */
static void __attribute__((noinline)) make_stale(void)
{
    void **cells = BENCH_NEW(CELLS * sizeof *cells);
    char *big;
    long k = 0;

    stale = BENCH_NEW(2 * STALE_WORDS * sizeof *stale);
    if (!stale || !cells)
        bench_oom();
    for (long i = 0; i < CELLS; i++)
        if (!(cells[i] = BENCH_NEW(64)))
            bench_oom();
    for (long i = 0; i < CELLS; i++) {
        if (i % (CELLS / STALE_WORDS) == 0 && k < STALE_WORDS)
            stale[k++] = (uintptr_t)cells[i] + 8;
        BENCH_EXPLICIT_FREE(cells[i]);
    }
    BENCH_EXPLICIT_FREE(cells);
    big = BENCH_NEW(STALE_HUGE);
    if (!big)
        bench_oom();
    for (long i = 0; i < STALE_WORDS; i++)
        stale[STALE_WORDS + i] = (uintptr_t)big + (uintptr_t)i * (STALE_HUGE / STALE_WORDS) + 8;
    BENCH_EXPLICIT_FREE(big);
}

static long __attribute__((noinline)) alloc_and_drop(size_t size)
{
    char *p = BENCH_NEW(size);

    if (!p)
        bench_oom();
    SET_FINALIZER(p, &finalized);
    memset(p + size / 2, 1, 64);
    return 1;
}

int main(int argc, char **argv)
{
    long rounds, objects = 0;
    double t0;

    if (argc != 3 ||
        (strcmp(argv[1], "huge") && strcmp(argv[1], "stale") && strcmp(argv[1], "offpage"))) {
        fprintf(stderr, "usage: retention huge|stale|offpage ROUNDS\n");
        return 2;
    }
    rounds = atol(argv[2]);
    BENCH_INIT();
    t0 = bench_now_ms();
    if (!strcmp(argv[1], "stale")) {
        make_stale();
        collect_a_few();
        for (long r = 0; r < rounds; r++) {
            for (int i = 0; i < 64; i++)
                objects += alloc_and_drop((size_t)256 << 10);
            objects += alloc_and_drop(STALE_HUGE);
            collect_a_few();
        }
    } else {
        for (long r = 0; r < rounds; r++)
            objects += round_huge(!strcmp(argv[1], "offpage"));
    }
    collect_a_few();
    printf("bench=retention-%s allocator=%s wall_ms=%.1f cpu_ms=%.1f maxrss_kb=%ld retained=%ld "
           "objects=%ld heap_kb=%ld check=%ld\n",
           argv[1], BENCH_NAME, bench_now_ms() - t0, bench_cpu_ms(), bench_maxrss_kb(),
           objects - finalized, objects, bench_heap_kb(), finalized);
    return 0;
}
