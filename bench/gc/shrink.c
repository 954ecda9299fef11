/* RSS follows the live heap: a big live set (256 MiB of 64-byte objects) is built and dropped,
 * then the program goes on with a small live set, allocating 384 MiB of small objects; the RSS
 * is sampled every 64 MiB of that allocation. (A collector learns that the set died at its next
 * collection, which comes late, after an allocation in proportion to the set; the question is
 * how soon the memory goes back after that.)
 *
 *   shrink [LIVE_MIB [AFTER_MIB]]     (defaults 256 and 384)
 *
 * Prints the result line: peak RSS (maxrss_kb), the RSS when the big set was dropped
 * (rss_drop_kb), after 64, 128, ... MiB (rss_64_kb ...), the heap at the end, the collections
 * after the drop. The malloc build frees everything it drops. */
#include "alloc.h"

#include <stdint.h>

#define RING 4096

static void **big;
static void *ring[RING]; /* the small live set */

static void __attribute__((noinline)) build(long n)
{
    big = BENCH_NEW((size_t)n * sizeof *big);
    if (!big)
        bench_oom();
    for (long i = 0; i < n; i++) {
        char *p = BENCH_NEW(64);
        if (!p)
            bench_oom();
        p[0] = (char)i;
        big[i] = p;
    }
}

static void __attribute__((noinline)) drop(long n)
{
    for (long i = 0; i < n; i++)
        BENCH_FREE(big[i]);
    BENCH_FREE(big);
    big = NULL;
}

int main(int argc, char **argv)
{
    long live_mib = argc > 1 ? atol(argv[1]) : 256, after_mib = argc > 2 ? atol(argv[2]) : 384;
    long n = live_mib * (1L << 20) / 64, c0, rss_drop, samples[64], ns = 0;
    uint64_t done = 0, next = 64u << 20;
    double t0;

    BENCH_INIT();
    t0 = bench_now_ms();
    build(n);
    drop(n);
    rss_drop = bench_rss_kb();
    c0 = bench_collections();
    for (long i = 0; done < (uint64_t)after_mib << 20; i++) {
        size_t size = 16 + (size_t)(i % 7) * 16;
        void *p = BENCH_NEW(size);
        if (!p)
            bench_oom();
        BENCH_FREE(ring[i % RING]);
        ring[i % RING] = p;
        done += size;
        if (done >= next) {
            if (ns < 64)
                samples[ns++] = bench_rss_kb();
            next += 64u << 20;
        }
    }
    printf("bench=shrink allocator=%s wall_ms=%.1f cpu_ms=%.1f maxrss_kb=%ld rss_drop_kb=%ld",
           BENCH_NAME, bench_now_ms() - t0, bench_cpu_ms(), bench_maxrss_kb(), rss_drop);
    for (long k = 0; k < ns; k++)
        printf(" rss_%ld_kb=%ld", (k + 1) * 64, samples[k]);
    printf(" heap_kb=%ld collections_after=%ld check=%ld\n", bench_heap_kb(),
           bench_collections() - c0, n);
    return 0;
}
