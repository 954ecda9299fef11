/* Weak links: cleared when their object dies (short links before finalization, long links after
 * it), forgotten with a dead holder, unlinked, moved; wrong usage. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "gc_test.h"

static volatile int finalized;
static void *keep;

/* A link cell the collector does not scan (malloc'd memory). */
/* Reads a cell in a frame of its own: the caller's registers never hold the object. */
NOINLINE static int is_null(void **cell)
{
    return *cell == NULL;
}

NOINLINE static void copy_cell(void **to, void **from)
{
    *to = *from;
}

static void **new_cell(void)
{
    void **cell = malloc(sizeof *cell);
    cr_assert_not_null(cell);
    *cell = NULL;
    return cell;
}

NOINLINE static void link_new_object(void **cell, int is_long, int with_finalizer)
{
    void *obj = mw_gc_malloc(64);

    *cell = obj;
    cr_assert_eq(is_long ? mw_gc_weak_link_long(cell, obj) : mw_gc_weak_link(cell, obj), 0);
    if (with_finalizer)
        mw_gc_set_finalizer(obj, gc_test_count_fin, (void *)&finalized);
}

Test(gc_weak, link_is_cleared_when_its_object_dies)
{
    void **cell = new_cell();

    link_new_object(cell, 0, 0);
    cr_assert(!is_null(cell));
    gc_test_collect();
    cr_assert(is_null(cell));
    cr_assert_eq(mw_gc_weak_unlink(cell), -ENOENT, "a cleared link is forgotten");
}

Test(gc_weak, link_stays_while_its_object_is_reachable)
{
    void **cell = new_cell();

    link_new_object(cell, 0, 0);
    keep = *cell;
    gc_test_collect();
    gc_test_collect();
    cr_assert_eq(*cell, keep);
    cr_assert_eq(mw_gc_weak_unlink(cell), 0);
}

/* Registers cell as a short link and lng as a long link to the object lng names. */
NOINLINE static void link_same(void **cell, void **lng)
{
    *cell = *lng;
    cr_assert_eq(mw_gc_weak_link(cell, *lng), 0);
    cr_assert_eq(mw_gc_weak_link_long(lng, *lng), 1);
}

Test(gc_weak, short_link_breaks_before_the_finalizer_long_link_after)
{
    void **shrt = new_cell(), **lng = new_cell();

    link_new_object(shrt, 0, 1);
    copy_cell(lng, shrt);
    cr_assert_eq(mw_gc_weak_move(shrt, lng), 0);
    link_same(shrt, lng);
    gc_test_collect();
    cr_assert_eq(finalized, 1);
    cr_assert(is_null(shrt), "short link: cleared when the object is found unreachable");
    cr_assert(!is_null(lng), "long link: kept while the finalizer could resurrect the object");
    gc_test_collect();
    cr_assert(is_null(lng), "long link: cleared once the object is dead for good");
}

Test(gc_weak, unlinked_link_is_left_alone)
{
    void **cell = new_cell();
    void *seen;

    link_new_object(cell, 0, 0);
    seen = (void *)gc_test_hide(*cell);
    cr_assert_eq(mw_gc_weak_unlink(cell), 0);
    cr_assert_eq(mw_gc_weak_unlink(cell), -ENOENT);
    gc_test_collect();
    cr_assert_eq(gc_test_hide(*cell), (uintptr_t)seen);
}

Test(gc_weak, moved_link_is_cleared_at_its_new_place)
{
    void **a = new_cell(), **b = new_cell();

    link_new_object(a, 0, 0);
    copy_cell(b, a);
    cr_assert_eq(mw_gc_weak_move(a, b), 0);
    cr_assert_eq(mw_gc_weak_move(a, b), -ENOENT);
    cr_assert_eq(mw_gc_weak_move(b, b), 0);
    gc_test_collect();
    cr_assert(is_null(b));
    cr_assert(!is_null(a), "the old place is no longer a link");
}

Test(gc_weak, move_onto_another_link_fails)
{
    void **a = new_cell(), **b = new_cell();

    keep = mw_gc_malloc(32);
    cr_assert_eq(mw_gc_weak_link(a, keep), 0);
    cr_assert_eq(mw_gc_weak_link(b, keep), 0);
    cr_assert_eq(mw_gc_weak_move(a, b), -EEXIST);
    cr_assert_eq(mw_gc_weak_move(a, (void **)((char *)b + 1)), -EINVAL);
}

Test(gc_weak, registering_twice_retargets_and_returns_1)
{
    void **cell = new_cell();
    void *first = mw_gc_malloc(16);

    keep = mw_gc_malloc(16);
    cr_assert_eq(mw_gc_weak_link(cell, first), 0);
    cr_assert_eq(mw_gc_weak_link_long(cell, keep), 1);
    *cell = keep;
    first = NULL;
    gc_test_collect();
    cr_assert_eq(*cell, keep, "the link names its second object, still reachable");
}

NOINLINE static void **link_in_dead_holder(void)
{
    /* An atomic holder: its link does not keep the target alive; both die together. */
    void **holder = mw_gc_malloc_atomic(sizeof(void *));

    link_new_object(holder, 1, 0);
    return (void **)gc_test_hide(holder);
}

Test(gc_weak, link_held_by_a_dead_object_is_forgotten)
{
    uintptr_t hidden = (uintptr_t)link_in_dead_holder();

    gc_test_collect();
    cr_assert_eq(mw_gc_weak_unlink(gc_test_unhide(hidden)), -ENOENT);
}

Test(gc_weak, many_links_are_all_cleared)
{
    enum { N = 3000 };
    void **cells = calloc(N, sizeof *cells);

    cr_assert_not_null(cells);
    for (int i = 0; i < N; i++)
        link_new_object(&cells[i], i & 1, 0);
    gc_test_collect();
    gc_test_collect();
    for (int i = 0; i < N; i++)
        cr_assert_null(cells[i], "link %d", i);
    free(cells);
}

Test(gc_weak, wrong_usage_is_refused)
{
    void **cell = new_cell();
    int on_stack;

    keep = mw_gc_malloc(32);
    cr_assert_eq(mw_gc_weak_link(NULL, keep), -EINVAL);
    cr_assert_eq(mw_gc_weak_link((void **)((char *)cell + 4), keep), -EINVAL);
    cr_assert_eq(mw_gc_weak_link(cell, (char *)keep + 8), -EINVAL, "not an object's start");
    cr_assert_eq(mw_gc_weak_link(cell, &on_stack), -EINVAL, "not a collected object");
    cr_assert_eq(mw_gc_weak_link(cell, NULL), -EINVAL);
    cr_assert_eq(mw_gc_weak_unlink(NULL), -ENOENT);
}

static void *reveal(void *arg)
{
    return gc_test_unhide(*(uintptr_t *)arg);
}

Test(gc_weak, call_locked_returns_what_fn_returns)
{
    uintptr_t hidden;

    keep = mw_gc_malloc(32);
    hidden = gc_test_hide(keep);
    cr_assert_eq(mw_gc_call_locked(reveal, &hidden), keep);
}
