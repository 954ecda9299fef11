/* Uncollectable objects: alive with no pointer to them, roots for what they hold, freed only by
 * mw_gc_free, kept uncollectable by realloc. */
#include <criterion/criterion.h>
#include <errno.h>

#include "gc_test.h"

static volatile int finalized;

struct holder {
    void *child;
};

/* An uncollectable holder of a finalizable child; returns the holder disguised. */
NOINLINE static uintptr_t make_holder(int atomic)
{
    struct holder *h = atomic ? mw_gc_malloc_atomic_uncollectable(sizeof *h)
                              : mw_gc_malloc_uncollectable(sizeof *h);

    cr_assert_not_null(h);
    h->child = mw_gc_malloc(100);
    mw_gc_set_finalizer(h->child, gc_test_count_fin, (void *)&finalized);
    return gc_test_hide(h);
}

Test(gc_uncollectable, object_and_what_it_holds_survive_without_pointers)
{
    uintptr_t hidden = make_holder(0);
    struct holder *h;

    for (int i = 0; i < 3; i++)
        gc_test_collect();
    cr_assert_eq(finalized, 0, "the child is reachable from the uncollectable object");
    h = gc_test_unhide(hidden);
    cr_assert_eq(mw_gc_base(h), (void *)h, "still a live object");
    cr_assert_eq(mw_gc_base(h->child), h->child);
}

Test(gc_uncollectable, free_makes_it_collectable_again)
{
    uintptr_t hidden = make_holder(0);

    mw_gc_free(gc_test_unhide(hidden));
    gc_test_collect();
    cr_assert_eq(finalized, 1, "the child lost its only holder");
}

Test(gc_uncollectable, atomic_one_survives_but_holds_nothing)
{
    uintptr_t hidden = make_holder(1);

    gc_test_collect();
    cr_assert_eq(finalized, 1, "an atomic object is not scanned");
    cr_assert_not_null(mw_gc_base(gc_test_unhide(hidden)));
}

NOINLINE static uintptr_t grown(void)
{
    struct holder *h = gc_test_unhide(make_holder(0));

    h = mw_gc_realloc(h, 300000);
    cr_assert_not_null(h);
    return gc_test_hide(h);
}

Test(gc_uncollectable, realloc_keeps_it_uncollectable)
{
    uintptr_t hidden = grown();
    struct holder *h;

    gc_test_collect();
    gc_test_collect();
    h = gc_test_unhide(hidden);
    cr_assert_eq(mw_gc_base(h), (void *)h);
    cr_assert_geq(mw_gc_size(h), 300000);
    cr_assert_eq(finalized, 0, "the moved copy still holds the child");
}

Test(gc_uncollectable, thousands_survive)
{
    enum { N = 5000 };
    static uintptr_t hidden[N];

    for (int i = 0; i < N; i++) {
        int *p = mw_gc_malloc_uncollectable(sizeof(int) * (1 + i % 40));
        cr_assert_not_null(p);
        p[0] = i;
        hidden[i] = gc_test_hide(p);
        if (i % 3 == 0)
            mw_gc_free(p);
    }
    gc_test_collect();
    /* Churn to reuse every free slot. */
    for (int i = 0; i < 200000; i++)
        memset(mw_gc_malloc(sizeof(int) * (1 + i % 40)), 0xee, 4);
    for (int i = 0; i < N; i++)
        if (i % 3)
            cr_assert_eq(*(int *)gc_test_unhide(hidden[i]), i, "object %d", i);
}
