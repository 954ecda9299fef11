/* Finalizer flags and replacement: unordered finalization, the replaced finalizer handed back. */
#include <criterion/criterion.h>
#include <errno.h>

#include "gc_test.h"

static int runs;

static void count(void *obj, void *ctx)
{
    (void)obj;
    (void)ctx;
    runs++;
}

static void other(void *obj, void *ctx)
{
    (void)obj;
    (void)ctx;
}

/* a -> b, both finalizable with the given flags. */
NOINLINE static void pair(unsigned flags)
{
    void **a = mw_gc_malloc(32), **b = mw_gc_malloc(32);

    a[0] = b;
    cr_assert_eq(mw_gc_replace_finalizer(a, count, NULL, flags, NULL, NULL), 0);
    cr_assert_eq(mw_gc_replace_finalizer(b, count, NULL, flags, NULL, NULL), 0);
}

Test(gc_finalize_flags, ordered_pair_takes_two_collections)
{
    pair(0);
    gc_test_collect();
    cr_assert_eq(runs, 1);
    gc_test_collect();
    cr_assert_eq(runs, 2);
}

Test(gc_finalize_flags, unordered_pair_is_finalized_at_once)
{
    pair(MW_GC_FINALIZE_UNORDERED);
    gc_test_collect();
    cr_assert_eq(runs, 2);
}

NOINLINE static void cycle(unsigned flags)
{
    void **a = mw_gc_malloc(32), **b = mw_gc_malloc(32);

    a[0] = b;
    b[0] = a;
    mw_gc_replace_finalizer(a, count, NULL, flags, NULL, NULL);
    mw_gc_replace_finalizer(b, count, NULL, flags, NULL, NULL);
}

Test(gc_finalize_flags, unordered_cycle_is_finalized_at_once)
{
    cycle(MW_GC_FINALIZE_UNORDERED);
    gc_test_collect();
    cr_assert_eq(runs, 2);
}

Test(gc_finalize_flags, replace_hands_back_the_previous_finalizer)
{
    void *p = mw_gc_malloc(16);
    mw_gc_finalizer_fn fn = other;
    void *ctx = &fn;
    int token;

    cr_assert_eq(mw_gc_replace_finalizer(p, count, &token, 0, &fn, &ctx), 0);
    cr_assert_null(fn);
    cr_assert_null(ctx);
    cr_assert_eq(mw_gc_replace_finalizer(p, other, NULL, 0, &fn, &ctx), 0);
    cr_assert_eq(fn, count);
    cr_assert_eq(ctx, &token);
    cr_assert_eq(mw_gc_replace_finalizer(p, NULL, NULL, 0, &fn, NULL), 0);
    cr_assert_eq(fn, other);
    cr_assert_eq(mw_gc_replace_finalizer(p, NULL, NULL, 0, &fn, NULL), 0);
    cr_assert_null(fn, "removed");
}

Test(gc_finalize_flags, errors_leave_the_old_values)
{
    mw_gc_finalizer_fn fn = other;
    void *p = mw_gc_malloc(16);

    cr_assert_eq(mw_gc_replace_finalizer((char *)p + 1, count, NULL, 0, &fn, NULL), -EINVAL);
    cr_assert_eq(fn, other);
    cr_assert_eq(mw_gc_replace_finalizer(p, count, NULL, 8, &fn, NULL), -EINVAL, "unknown flag");
    cr_assert_eq(fn, other);
}
