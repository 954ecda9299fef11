/* Finalizers: once, after unreachability, in order, outside the collector. */
#include <criterion/criterion.h>
#include <errno.h>

#include "gc_test.h"

struct node {
    struct node *next;
    int id;
    int payload;
};

static int order[16], norder;
static int seen_child_payload = -1;
static void *resurrected;

static void record(void *obj, void *ctx)
{
    struct node *n = obj;
    (void)ctx;
    if (norder < 16)
        order[norder++] = n->id;
    if (n->next)
        seen_child_payload = n->next->payload;
}

NOINLINE static void chain(int finalize_child)
{
    struct node *a = mw_gc_malloc(sizeof *a), *b = mw_gc_malloc(sizeof *b);

    a->id = 1;
    b->id = 2;
    b->payload = 4242;
    a->next = b;
    mw_gc_set_finalizer(a, record, NULL);
    if (finalize_child)
        mw_gc_set_finalizer(b, record, NULL);
}

Test(gc_finalize, runs_once)
{
    chain(0);
    gc_test_collect();
    gc_test_collect();
    gc_test_collect();
    cr_assert_eq(norder, 1);
    cr_assert_eq(order[0], 1);
}

Test(gc_finalize, parent_runs_before_the_child_it_reaches)
{
    chain(1);
    gc_test_collect();
    cr_assert_eq(norder, 1, "only the parent is due while it reaches the child");
    cr_assert_eq(order[0], 1);
    gc_test_collect();
    cr_assert_eq(norder, 2);
    cr_assert_eq(order[1], 2);
}

Test(gc_finalize, object_reached_by_a_finalizable_one_is_kept_until_it_ran)
{
    chain(0);
    gc_test_collect();
    cr_assert_eq(seen_child_payload, 4242, "the child was freed before the parent's finalizer");
}

NOINLINE static void self_loop(void)
{
    struct node *a = mw_gc_malloc(sizeof *a);
    a->id = 7;
    a->next = a;
    mw_gc_set_finalizer(a, record, NULL);
}

Test(gc_finalize, pointer_to_itself_does_not_block_it)
{
    self_loop();
    gc_test_collect();
    cr_assert_eq(norder, 1);
    cr_assert_eq(order[0], 7);
}

NOINLINE static void finalizable_cycle(void)
{
    struct node *a = mw_gc_malloc(sizeof *a), *b = mw_gc_malloc(sizeof *b);
    a->id = 1;
    b->id = 2;
    a->next = b;
    b->next = a;
    mw_gc_set_finalizer(a, record, NULL);
    mw_gc_set_finalizer(b, record, NULL);
}

Test(gc_finalize, cycle_of_finalizable_objects_is_finalized_one_per_collection)
{
    finalizable_cycle();
    gc_test_collect();
    cr_assert_eq(norder, 1, "one member first, the other kept for it");
    gc_test_collect();
    cr_assert_eq(norder, 2);
    cr_assert_neq(order[0], order[1]);
    gc_test_collect();
    cr_assert_eq(norder, 2);
}

NOINLINE static void set_then_remove(void)
{
    struct node *a = mw_gc_malloc(sizeof *a);
    mw_gc_set_finalizer(a, record, NULL);
    cr_assert_eq(mw_gc_set_finalizer(a, NULL, NULL), 0);
}

Test(gc_finalize, removed_finalizer_does_not_run)
{
    set_then_remove();
    gc_test_collect();
    cr_assert_eq(norder, 0);
}

static int ctx_seen;

static void with_ctx(void *obj, void *ctx)
{
    (void)obj;
    ctx_seen = *(int *)ctx;
}

NOINLINE static void replaced(void)
{
    static int one = 1, two = 2;
    struct node *a = mw_gc_malloc(sizeof *a);
    mw_gc_set_finalizer(a, with_ctx, &one);
    mw_gc_set_finalizer(a, with_ctx, &two);
}

Test(gc_finalize, second_setting_replaces_the_first)
{
    replaced();
    gc_test_collect();
    cr_assert_eq(ctx_seen, 2);
}

static int inner_runs;

static void allocating_finalizer(void *obj, void *ctx)
{
    (void)obj;
    (void)ctx;
    /* A finalizer runs outside the collector: it may allocate and even collect. */
    for (int i = 0; i < 1000; i++)
        mw_gc_malloc(100);
    mw_gc_collect();
    inner_runs++;
}

NOINLINE static void reentrant(void)
{
    for (int i = 0; i < 3; i++)
        mw_gc_set_finalizer(mw_gc_malloc(32), allocating_finalizer, NULL);
}

Test(gc_finalize, finalizer_may_allocate_and_collect)
{
    reentrant();
    gc_test_collect();
    cr_assert_eq(inner_runs, 3);
}

static int resurrections;

static void resurrect(void *obj, void *ctx)
{
    (void)ctx;
    resurrections++;
    resurrected = obj;
}

NOINLINE static void make_resurrecting(void)
{
    struct node *a = mw_gc_malloc(sizeof *a);
    a->payload = 99;
    mw_gc_set_finalizer(a, resurrect, NULL);
}

Test(gc_finalize, resurrected_object_stays_valid_and_is_not_finalized_again)
{
    make_resurrecting();
    gc_test_collect();
    gc_test_collect();
    gc_test_collect();
    cr_assert_eq(resurrections, 1);
    cr_assert_eq(((struct node *)resurrected)->payload, 99);
}

Test(gc_finalize, set_on_a_non_object_is_einval)
{
    int local = 0;
    char *p = mw_gc_malloc(32);

    cr_assert_eq(mw_gc_set_finalizer(&local, record, NULL), -EINVAL);
    cr_assert_eq(mw_gc_set_finalizer(p + 8, record, NULL), -EINVAL);
    cr_assert_eq(mw_gc_set_finalizer(NULL, record, NULL), -EINVAL);
}

NOINLINE static void free_finalizable(void)
{
    struct node *a = mw_gc_malloc(sizeof *a);
    mw_gc_set_finalizer(a, record, NULL);
    mw_gc_free(a);
}

Test(gc_finalize, explicit_free_drops_the_finalizer)
{
    free_finalizable();
    gc_test_collect();
    cr_assert_eq(norder, 0);
}
