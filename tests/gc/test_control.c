/* The program's controls: base and size, disable/enable, collect-every, heap limit and growth,
 * warnings, usage figures, thread registration. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "gc/gc_internal.h"
#include "gc_test.h"

static void *keep;

Test(gc_control, base_finds_the_start_from_inside)
{
    char *small = mw_gc_malloc(100), *large = mw_gc_malloc(20000), *huge = mw_gc_malloc(3 << 20);
    int local;

    keep = small;
    cr_assert_eq(mw_gc_base(small), small);
    cr_assert_eq(mw_gc_base(small + 99), small);
    cr_assert_eq(mw_gc_base(large + 12345), large);
    cr_assert_eq(mw_gc_base(huge + (2 << 20)), huge);
    cr_assert_null(mw_gc_base(&local));
    cr_assert_null(mw_gc_base(NULL));
    cr_assert_null(mw_gc_base(malloc(8)));
}

Test(gc_control, size_covers_the_request)
{
    for (size_t n = 1; n < 70000; n = n * 3 + 1) {
        char *p = mw_gc_malloc(n);
        cr_assert_geq(mw_gc_size(p), n, "size %zu", n);
        cr_assert_eq(mw_gc_size(p + n - 1), mw_gc_size(p));
    }
    cr_assert_eq(mw_gc_size(&keep), 0);
}

static uint64_t collections(void)
{
    mw_gc_stats_t s;
    mw_gc_get_stats(&s);
    return s.collections;
}

static void churn(size_t bytes)
{
    for (size_t i = 0; i < bytes / 64; i++)
        mw_gc_malloc(64);
}

Test(gc_control, disable_stops_automatic_collections_and_nests)
{
    uint64_t c;

    cr_assert_eq(mw_gc_is_disabled(), 0);
    mw_gc_disable();
    mw_gc_disable();
    cr_assert_eq(mw_gc_is_disabled(), 1);
    c = collections();
    churn(200 << 20);
    cr_assert_eq(collections(), c, "no collection while disabled");
    mw_gc_enable();
    cr_assert_eq(mw_gc_is_disabled(), 1, "still disabled once");
    mw_gc_enable();
    cr_assert_eq(mw_gc_is_disabled(), 0);
    mw_gc_enable(); /* one too many: ignored */
    cr_assert_eq(mw_gc_is_disabled(), 0);
    churn(200 << 20);
    cr_assert_gt(collections(), c, "collections resume");
}

Test(gc_control, explicit_collect_runs_while_disabled)
{
    uint64_t c = collections();

    mw_gc_disable();
    mw_gc_collect();
    cr_assert_eq(collections(), c + 1);
}

Test(gc_control, env_disable_survives_enable)
{
    setenv("MEMWALK_GC_DISABLE", "1", 1);
    cr_assert_eq(mw_gc_is_disabled(), 1);
    mw_gc_disable();
    mw_gc_enable();
    cr_assert_eq(mw_gc_is_disabled(), 1, "MEMWALK_GC_DISABLE still holds");
}

Test(gc_control, collect_every_collects_at_every_nth_allocation)
{
    uint64_t c;

    setenv("MEMWALK_GC_COLLECT_EVERY", "100", 1);
    c = collections();
    for (int i = 0; i < 1000; i++)
        mw_gc_malloc(i % 5000);
    cr_assert_eq(collections() - c, 10);
    for (int i = 0; i < 1000; i++)
        mw_gc_malloc_atomic(24);
    cr_assert_eq(collections() - c, 20);
}

Test(gc_control, collect_every_keeps_reachable_objects)
{
    enum { N = 2000 };
    static uintptr_t hidden[N];
    void **list = NULL;

    setenv("MEMWALK_GC_COLLECT_EVERY", "7", 1);
    for (int i = 0; i < N; i++) {
        void **node = mw_gc_malloc(2 * sizeof(void *) + (size_t)(i % 200));
        node[0] = list;
        node[1] = (void *)(uintptr_t)i;
        list = node;
        hidden[i] = gc_test_hide(node);
        mw_gc_malloc(48); /* garbage in between */
    }
    for (int i = N - 1; i >= 0; i--, list = list[0])
        cr_assert_eq(list, gc_test_unhide(hidden[i]), "node %d", i);
}

Test(gc_control, collect_every_off_by_default_and_bad_values_warned)
{
    setenv("MEMWALK_GC_COLLECT_EVERY", "many", 1);
    mw_gc_malloc(1);
    cr_assert_eq(mw__gc.opt.collect_every, 0);
}

Test(gc_control, max_heap_limits_growth)
{
    size_t prev;
    int fails = 0;

    prev = mw_gc_set_max_heap(64 << 20);
    cr_assert_eq(prev, 0);
    cr_assert_eq(mw_gc_set_max_heap(64 << 20), 64 << 20);
    keep = NULL;
    for (int i = 0; i < 200 && !fails; i++) {
        void **p = mw_gc_malloc(1 << 20);
        if (!p) {
            fails = 1;
            cr_assert_eq(errno, ENOMEM);
            break;
        }
        p[0] = keep;
        keep = p;
    }
    cr_assert(fails, "200 MiB live under a 64 MiB limit");
}

Test(gc_control, expand_heap_grows_the_heap_now)
{
    mw_gc_stats_t before, after;

    mw_gc_malloc(1);
    mw_gc_get_stats(&before);
    cr_assert_eq(mw_gc_expand_heap(50 << 20), 0);
    mw_gc_get_stats(&after);
    cr_assert_geq(after.heap_bytes, before.heap_bytes + (50 << 20));
    /* The pages are free: allocating into them works and finds zeroed memory. */
    for (int i = 0; i < 1000; i++) {
        long *p = mw_gc_malloc(40000);
        cr_assert_eq(p[4999], 0);
        p[4999] = 1;
    }
}

Test(gc_control, expand_heap_past_the_limit_fails)
{
    mw_gc_set_max_heap(16 << 20);
    cr_assert_eq(mw_gc_expand_heap(64 << 20), -ENOMEM);
}

static char warned[600];

static void on_warning(const char *msg)
{
    snprintf(warned, sizeof warned, "%s", msg);
}

Test(gc_control, warnings_go_to_the_handler)
{
    cr_assert_null(mw_gc_set_warn_handler(on_warning));
    mw__gc_warn("test warning %d", 42);
    cr_assert_str_eq(warned, "test warning 42");
    cr_assert_eq(mw_gc_set_warn_handler(NULL), on_warning);
}

Test(gc_control, usage_figures_add_up)
{
    mw_gc_usage_t u;

    keep = mw_gc_malloc(1 << 20);
    mw_gc_collect();
    for (int i = 0; i < 1000; i++)
        mw_gc_malloc(100);
    mw_gc_get_usage(&u);
    cr_assert_geq(u.since_gc_bytes, 1000 * 100);
    cr_assert_lt(u.since_gc_bytes, 1000 * 200);
    cr_assert_geq(u.total_bytes, (1 << 20) + 1000 * 100);
    cr_assert_leq(u.free_bytes, u.heap_bytes - (1 << 20));
    cr_assert_geq(u.heap_bytes, (1 << 20) + 1000 * 100);
}

static void *thread_query(void *arg)
{
    int *out = arg;
    out[0] = mw_gc_thread_is_registered();
    mw_gc_register_thread();
    out[1] = mw_gc_thread_is_registered();
    mw_gc_unregister_thread();
    out[2] = mw_gc_thread_is_registered();
    return NULL;
}

Test(gc_control, thread_is_registered_says_so)
{
    pthread_t t;
    int out[3];

    mw_gc_malloc(1);
    cr_assert_eq(mw_gc_thread_is_registered(), 1);
    pthread_create(&t, NULL, thread_query, out);
    pthread_join(t, NULL);
    cr_assert_eq(out[0], 0);
    cr_assert_eq(out[1], 1);
    cr_assert_eq(out[2], 0);
}
