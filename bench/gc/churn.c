/* Churn: tens of millions of small objects (16 to 64 bytes, sizes drawn at random), each living
 * for the next 64 allocations; about 1 % of them survive into a long-lived table where they
 * replace an older survivor. The malloc build frees each object when it dies.
 * Usage: churn [ALLOCATIONS [SURVIVORS]] (defaults 30000000 and 100000, about 5 MiB live). */
#include "alloc.h"

#include <stdint.h>

#define ALLOCATIONS 30000000L
#define SURVIVORS   100000L /* long-lived table slots, by default */
#define RECENT      64

typedef struct obj {
    uint64_t id;
    uint64_t check; /* id * K: a survivor that was freed or overwritten fails the test */
    uint64_t payload[];
} obj;

#define K UINT64_C(0x9e3779b97f4a7c15)

static uint64_t rng_state = 88172645463325252u;

static inline uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : ALLOCATIONS, i, j, bad = 0, kept = 0;
    long slots = argc > 2 ? atol(argv[2]) : SURVIVORS;
    obj *recent[RECENT] = {0}, **live;
    double t0;

    BENCH_INIT();
    t0 = bench_now_ms();
    live = BENCH_NEW(slots * sizeof *live);
    if (!live)
        bench_oom();
    memset(live, 0, slots * sizeof *live);
    for (i = 0; i < n; i++) {
        uint64_t r = rng();
        size_t size = 16 + (size_t)(r % 49);
        obj *o = BENCH_NEW(size), *old;
        if (!o)
            bench_oom();
        o->id = (uint64_t)i;
        o->check = (uint64_t)i * K;
        if (size >= 24)
            o->payload[0] = r;
        old = recent[i & (RECENT - 1)];
        recent[i & (RECENT - 1)] = o;
        if (!old)
            continue;
        if ((r >> 32) % 100 == 0) {
            j = (long)((r >> 40) % slots);
            BENCH_FREE(live[j]);
            live[j] = old;
        } else {
            BENCH_FREE(old);
        }
    }
    for (j = 0; j < slots; j++) {
        if (!live[j])
            continue;
        kept++;
        if (live[j]->check != live[j]->id * K)
            bad++;
    }
    if (bad) {
        fprintf(stderr, "churn: %ld survivors damaged\n", bad);
        return 1;
    }
    bench_report("churn", bench_now_ms() - t0, kept);
    for (j = 0; j < slots; j++)
        BENCH_FREE(live[j]);
    for (j = 0; j < RECENT; j++)
        BENCH_FREE(recent[j]);
    BENCH_FREE(live);
    return 0;
}
