/* Collections: what they free, what they keep, when they happen, what they report. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>

#include "gc_test.h"

static volatile int finalized;

NOINLINE static void make_garbage(int n, size_t size)
{
    for (int i = 0; i < n; i++) {
        void *p = mw_gc_malloc(size);
        mw_gc_set_finalizer(p, gc_test_count_fin, (void *)&finalized);
    }
}

Test(gc_collect, unreachable_objects_are_finalized)
{
    make_garbage(1000, 40);
    gc_test_collect();
    cr_assert_eq(finalized, 1000);
}

Test(gc_collect, unreachable_bytes_show_in_stats)
{
    mw_gc_stats_t before, after;

    make_garbage(1000, 64);
    mw_gc_get_stats(&before);
    gc_test_collect(); /* finalizable: the first collection queues them, keeping them */
    gc_test_collect(); /* the second frees them */
    mw_gc_get_stats(&after);
    cr_assert_eq(after.collections, before.collections + 2);
    cr_assert_geq(after.freed_bytes - before.freed_bytes, 1000 * 64);
    cr_assert_lt(after.live_bytes, 1000 * 64, "live %llu", (unsigned long long)after.live_bytes);
    cr_assert_geq(after.allocated_bytes, 1000 * 64);
    cr_assert_geq(after.finalizers_run, 1000);
    cr_assert_gt(after.pause_total_ns, 0);
    cr_assert_geq(after.pause_total_ns, after.pause_max_ns);
}

static void **live_table;

NOINLINE static void build_live(size_t n)
{
    live_table = mw_gc_malloc(n * sizeof *live_table);
    for (size_t i = 0; i < n; i++)
        live_table[i] = mw_gc_malloc(64);
}

Test(gc_collect, live_bytes_after_collection_count_the_reachable)
{
    mw_gc_stats_t st;

    build_live(10000);
    gc_test_collect();
    mw_gc_get_stats(&st);
    cr_assert_geq(st.live_bytes, 10000 * 64 + 10000 * sizeof(void *));
    cr_assert_lt(st.live_bytes, 2 * (10000 * 64 + 10000 * sizeof(void *)));
}

Test(gc_collect, small_live_set_keeps_heap_small)
{
    mw_gc_stats_t st;

    build_live(1000); /* ~70 KiB live */
    for (int i = 0; i < 4000000; i++)
        mw_gc_malloc(32); /* 128 MiB of garbage */
    mw_gc_get_stats(&st);
    cr_assert_gt(st.collections, 3);
    /* The heap grows from the live set, with a 1 MiB floor (MEMWALK_GC_MIN_ALLOC), not from a
     * 24 MiB minimum. */
    cr_assert_lt(st.heap_bytes, 4u << 20, "heap %llu", (unsigned long long)st.heap_bytes);
}

static long *volatile churn_live[35000]; /* 35,000 survivors of 16 to 64 bytes: ~2 MiB live */

Test(gc_collect, churn_with_2_mib_live_keeps_a_small_heap)
{
    mw_gc_stats_t st;
    uint64_t peak = 0, x = 88172645463325252u;
    long *recent[64] = {0};

    for (long i = 0; i < 6000000; i++) {
        long *o;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        o = mw_gc_malloc(16 + (size_t)(x % 49));
        o[0] = i;
        o[1] = ~i;
        if (recent[i & 63] && (x >> 32) % 100 == 0)
            churn_live[(x >> 40) % 35000] = recent[i & 63];
        recent[i & 63] = o;
        if ((i & 8191) == 0) {
            mw_gc_get_stats(&st);
            peak = st.heap_bytes > peak ? st.heap_bytes : peak;
        }
    }
    for (long j = 0; j < 35000; j++)
        cr_assert(!churn_live[j] || churn_live[j][1] == ~churn_live[j][0], "survivor %ld", j);
    mw_gc_get_stats(&st);
    cr_assert_gt(st.collections, 10);
    cr_assert_gt(st.live_bytes, 1u << 20);
    /* live, up to 3 times that again (MEMWALK_GC_SMALL_GROWTH), and the free slots of the
     * blocks the survivors sit in */
    cr_assert_lt(peak, 12u << 20, "peak heap %llu bytes, live %llu", (unsigned long long)peak,
                 (unsigned long long)st.live_bytes);
}

Test(gc_collect, big_live_set_does_not_collect_at_every_allocation)
{
    mw_gc_stats_t a, b;

    build_live(500000); /* ~36 MiB live */
    gc_test_collect();
    mw_gc_get_stats(&a);
    for (int i = 0; i < 200000; i++)
        mw_gc_malloc(32); /* 6 MiB: well under the live heap */
    mw_gc_get_stats(&b);
    cr_assert_eq(b.collections, a.collections, "%llu collections for 6 MiB",
                 (unsigned long long)(b.collections - a.collections));
}

struct cell {
    struct cell *next;
    long value;
};

static struct cell *list_head;

NOINLINE static void build_list(long n)
{
    struct cell *h = NULL;
    for (long i = 0; i < n; i++) {
        struct cell *c = mw_gc_malloc(sizeof *c);
        c->next = h;
        c->value = i;
        h = c;
    }
    list_head = h;
}

NOINLINE static long list_sum(long *count)
{
    long s = 0, n = 0;
    for (struct cell *c = list_head; c; c = c->next) {
        s += c->value;
        n++;
    }
    *count = n;
    return s;
}

Test(gc_collect, ten_million_node_list_survives_without_recursion, .timeout = 120)
{
    const long n = 10000000;
    long count;

    build_list(n);
    gc_test_collect();
    cr_assert_eq(list_sum(&count), n * (n - 1) / 2);
    cr_assert_eq(count, n);
}

Test(gc_collect, mark_stack_overflow_is_recovered)
{
    void **wide;
    const size_t n = 100000;

    setenv("MEMWALK_GC_MARK_STACK", "16", 1);
    build_live(n); /* one array of 100,000 pointers: far more than 16 entries pending */
    wide = live_table;
    for (size_t i = 0; i < n; i++)
        mw_gc_set_finalizer(wide[i], gc_test_count_fin, (void *)&finalized);
    wide = NULL;
    gc_test_collect();
    cr_assert_eq(finalized, 0, "%d reachable objects were finalized", finalized);
}

NOINLINE static void make_big_garbage(void)
{
    for (int i = 0; i < 64; i++)
        mw_gc_malloc(1u << 20); /* 64 MiB of large objects */
}

Test(gc_collect, free_pages_go_back_to_the_os)
{
    mw_gc_stats_t a, b;

    setenv("MEMWALK_GC_UNMAP_AFTER", "1", 1);
    setenv("MEMWALK_GC_DISABLE", "1", 1);
    make_big_garbage();
    mw_gc_get_stats(&a);
    gc_test_collect();
    gc_test_collect();
    mw_gc_get_stats(&b);
    cr_assert_geq(a.heap_bytes, 64u << 20);
    cr_assert_lt(b.heap_bytes, 8u << 20, "heap %llu", (unsigned long long)b.heap_bytes);
}

Test(gc_collect, disabled_collector_only_collects_on_request)
{
    mw_gc_stats_t st;

    setenv("MEMWALK_GC_DISABLE", "1", 1);
    for (int i = 0; i < 1000000; i++)
        mw_gc_malloc(32);
    mw_gc_get_stats(&st);
    cr_assert_eq(st.collections, 0);
    mw_gc_collect();
    mw_gc_get_stats(&st);
    cr_assert_eq(st.collections, 1);
}

Test(gc_collect, heap_check_passes_on_a_busy_heap)
{
    setenv("MEMWALK_GC_CHECK", "1", 1); /* aborts on the first inconsistency */
    build_live(20000);
    for (int i = 0; i < 300000; i++)
        mw_gc_malloc(16 + (size_t)(i % 300) * 16);
    gc_test_collect();
    cr_assert_not_null(live_table[19999]);
}

/* Runs the example with an environment setting; returns its stderr (static buffer). */
static const char *run_example(const char *env, int *status)
{
    static char out[4096];
    char cmd[512];
    FILE *f;
    size_t n;

    snprintf(cmd, sizeof cmd, "%s %s/examples/gc_points 2>&1 >/dev/null", env, MW_BUILD_DIR);
    f = popen(cmd, "r");
    cr_assert_not_null(f);
    n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    *status = pclose(f);
    return out;
}

Test(gc_collect, stats_env_prints_statistics_at_exit)
{
    int status;
    const char *err = run_example("MEMWALK_GC_STATS=1", &status);

    cr_assert_eq(status, 0);
    cr_assert_not_null(strstr(err, "memwalk gc: 2 collections, heap "), "%s", err);
    cr_assert_not_null(strstr(err, "4 finalizers run"), "%s", err);
    cr_assert_not_null(strstr(err, "pauses: total "), "%s", err);
}

Test(gc_collect, bad_env_value_warns_and_keeps_default)
{
    int status;
    const char *err = run_example("MEMWALK_GC_GROWTH=lots", &status);

    cr_assert_eq(status, 0);
    cr_assert_not_null(strstr(err, "memwalk gc: MEMWALK_GC_GROWTH=lots: not a valid value; "
                                   "using 60"),
                       "%s", err);
}

Test(gc_collect, out_of_range_env_value_warns)
{
    int status;
    const char *err = run_example("MEMWALK_GC_GROWTH=1", &status);

    cr_assert_eq(status, 0);
    cr_assert_not_null(strstr(err, "MEMWALK_GC_GROWTH=1: out of range"), "%s", err);
}

Test(gc_collect, verbose_env_reports_each_collection)
{
    int status;
    const char *err = run_example("MEMWALK_GC_VERBOSE=1", &status);

    cr_assert_eq(status, 0);
    cr_assert_not_null(strstr(err, "memwalk gc: collection 1 (explicit): "), "%s", err);
    cr_assert_not_null(strstr(err, "memwalk gc: collection 2 (explicit): "), "%s", err);
}

Test(gc_collect, example_finalizes_every_point_once)
{
    char cmd[512], line[256];
    int dels = 0;
    FILE *f;

    snprintf(cmd, sizeof cmd, "%s/examples/gc_points", MW_BUILD_DIR);
    f = popen(cmd, "r");
    cr_assert_not_null(f);
    while (fgets(line, sizeof line, f))
        dels += strncmp(line, "  del {x: ", 10) == 0;
    cr_assert_eq(pclose(f), 0);
    cr_assert_eq(dels, 4);
}
