/* Memory given back: after a big live set dies, its pages go back to the OS within a few
 * collections while the program goes on allocating a little, and the resident size follows. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gc_test.h"

static uint64_t rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    cr_assert_not_null(f);
    cr_assert_eq(fscanf(f, "%ld %ld", &pages, &resident), 2);
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void **big;
void *release_ring[4096]; /* the small live set (a data root) */

/* n objects of size bytes, held by one table. */
static void NOINLINE build_big(long n, size_t size)
{
    big = mw_gc_malloc((size_t)n * sizeof *big);
    cr_assert_not_null(big);
    for (long i = 0; i < n; i++) {
        char *p = mw_gc_malloc(size);
        cr_assert_not_null(p);
        memset(p, 1, size); /* resident */
        big[i] = p;
    }
}

/* Keeps allocating (a small live set, the rest garbage) until `more` collections happened after
 * the big set was dropped and at least `bytes` were allocated. */
static void NOINLINE churn_for(uint64_t more, uint64_t bytes)
{
    mw_gc_stats_t st;
    uint64_t until, done = 0;

    mw_gc_get_stats(&st);
    until = st.collections + more;
    for (long i = 0;; i++) {
        size_t n = 16 + (size_t)(i % 7) * 16;
        release_ring[i & 4095] = mw_gc_malloc(n);
        done += n;
        if ((i & 1023) == 0) {
            mw_gc_get_stats(&st);
            if (st.collections >= until && done >= bytes)
                break;
        }
    }
}

/* Drops the big set, lets one collection find it dead, and goes on allocating 48 MiB of small
 * objects with a small live set: the collections that come with it (a few MiB apart now that
 * little is live) give the memory back. */
static void drop_and_check(const char *what, uint64_t rss0, uint64_t grew)
{
    mw_gc_stats_t st;
    uint64_t rss, c0;

    big = NULL;
    gc_test_collect();
    mw_gc_get_stats(&st);
    c0 = st.collections;
    churn_for(0, 48u << 20);
    rss = rss_bytes();
    mw_gc_get_stats(&st);
    cr_assert_geq(st.collections, c0 + 6, "%s: %llu collections for 48 MiB with little live", what,
                  (unsigned long long)(st.collections - c0));
    cr_assert_lt(rss, rss0 + grew / 4,
                 "%s: RSS %llu MiB, 48 MiB of allocation after %llu MiB died (%llu MiB before)",
                 what, (unsigned long long)(rss >> 20), (unsigned long long)(grew >> 20),
                 (unsigned long long)(rss0 >> 20));
    cr_assert_gt(st.released_bytes, grew / 2, "%s: %llu bytes given back", what,
                 (unsigned long long)st.released_bytes);
    cr_assert_lt(st.heap_bytes, grew / 4, "%s: heap %llu bytes", what,
                 (unsigned long long)st.heap_bytes);
}

Test(gc_release, pages_of_a_dead_live_set_of_small_objects_go_back_to_the_os, .timeout = 120)
{
    uint64_t rss0 = rss_bytes(), grew;

    build_big(1 << 20, 128); /* 128 MiB in 1 Mi objects */
    grew = rss_bytes() - rss0;
    cr_assert_gt(grew, 100u << 20);
    drop_and_check("small objects", rss0, grew);
}

static void **volatile large; /* volatile: the store must happen */

static void NOINLINE build_large_and_huge(void)
{
    build_big(512, 128 << 10); /* 64 MiB of large objects */
    large = big;
    build_big(24, 4 << 20); /* and 96 MiB of huge ones */
}

Test(gc_release, a_dead_live_set_of_large_and_huge_objects_goes_back_to_the_os, .timeout = 120)
{
    uint64_t rss0 = rss_bytes(), grew;

    build_large_and_huge();
    grew = rss_bytes() - rss0;
    cr_assert_gt(grew, 150u << 20);
    large = NULL;
    drop_and_check("large and huge objects", rss0, grew);
}
