/* The harness measuring itself and its neighbours: the floor of an empty loop, the cost of the
 * barriers, of the clock and fault-counter reads that frame each sample, and of a small and a
 * large malloc/free. `make bench-harness` runs it; it also exercises mw_bench_main's options in
 * `make check` (check-bench-main). */
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <memwalk/bench.h>

static void empty(uint64_t iters, void *arg)
{
    (void)arg;
    for (uint64_t i = 0; i < iters; i++)
        mw_bench_clobber();
}

static void keep_int(uint64_t iters, void *arg)
{
    (void)arg;
    for (uint64_t i = 0; i < iters; i++)
        mw_bench_keep(i);
}

static void read_clock(uint64_t iters, void *arg)
{
    struct timespec ts;
    (void)arg;
    for (uint64_t i = 0; i < iters; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        mw_bench_keep(ts.tv_nsec);
    }
}

static void read_rusage(uint64_t iters, void *arg)
{
    struct rusage ru;
    (void)arg;
    for (uint64_t i = 0; i < iters; i++) {
        getrusage(RUSAGE_SELF, &ru);
        mw_bench_keep(ru.ru_minflt);
    }
}

static void malloc_free(uint64_t iters, void *arg)
{
    size_t size = (size_t)(uintptr_t)arg;
    for (uint64_t i = 0; i < iters; i++) {
        char *p = malloc(size);
        mw_bench_keep(p);
        free(p);
    }
}

MW_BENCH(empty, empty);
MW_BENCH(keep_int, keep_int);
MW_BENCH(clock_gettime, read_clock);
MW_BENCH(getrusage, read_rusage);
MW_BENCH_SPEC(malloc_free_64, .fn = malloc_free, .arg = (void *)(uintptr_t)64);
MW_BENCH_SPEC(malloc_free_1m, .fn = malloc_free, .arg = (void *)(uintptr_t)(1 << 20));
int main(int argc, char **argv)
{
    return mw_bench_main(argc, argv);
}
