/* Boehm's uncollectable objects, finalizers and disappearing links on memwalk. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>

#include "boehm_test.h"

static volatile int finalized;

struct node {
    struct node *next;
    GC_hidden_pointer weak;
};

NOINLINE static GC_hidden_pointer uncollectable_holder(void)
{
    struct node *u = GC_MALLOC_UNCOLLECTABLE(sizeof *u);

    u->next = GC_MALLOC(sizeof *u);
    GC_REGISTER_FINALIZER(u->next, bt_count_fin, (void *)&finalized, NULL, NULL);
    return GC_HIDE_POINTER(u);
}

Test(boehm_objects, uncollectable_lives_until_freed)
{
    GC_hidden_pointer h = uncollectable_holder();

    bt_collect();
    bt_collect();
    cr_assert_eq(finalized, 0);
    GC_FREE(GC_REVEAL_POINTER(h));
    bt_collect();
    cr_assert_eq(finalized, 1);
}

static void other(void *obj, void *cd)
{
    (void)obj;
    (void)cd;
}

Test(boehm_objects, register_finalizer_returns_the_old_one)
{
    void *p = GC_MALLOC(10), *ocd = &ocd;
    GC_finalization_proc ofn = other;
    int x;

    GC_REGISTER_FINALIZER(p, bt_count_fin, &x, &ofn, &ocd);
    cr_assert_null(ofn);
    cr_assert_null(ocd);
    GC_REGISTER_FINALIZER_IGNORE_SELF(p, other, NULL, &ofn, &ocd);
    cr_assert_eq(ofn, bt_count_fin);
    cr_assert_eq(ocd, &x);
    ofn = other;
    GC_REGISTER_FINALIZER(&x, bt_count_fin, NULL, &ofn, &ocd);
    cr_assert_null(ofn, "not a collected object: nothing registered, nothing returned");
}

NOINLINE static void self_cycle_and_pair(void)
{
    struct node *a = GC_MALLOC(sizeof *a), *b = GC_MALLOC(sizeof *b), *c = GC_MALLOC(sizeof *c);

    a->next = a; /* a pointer to itself never delays it */
    GC_REGISTER_FINALIZER(a, bt_count_fin, (void *)&finalized, NULL, NULL);
    b->next = c;
    c->next = b;
    GC_REGISTER_FINALIZER_NO_ORDER(b, bt_count_fin, (void *)&finalized, NULL, NULL);
    GC_REGISTER_FINALIZER_NO_ORDER(c, bt_count_fin, (void *)&finalized, NULL, NULL);
}

Test(boehm_objects, finalizers_run_for_self_cycles_and_unordered_cycles)
{
    self_cycle_and_pair();
    bt_collect();
    cr_assert_eq(finalized, 3);
}

static struct node *holder;

NOINLINE static void weak_to_new(int is_long)
{
    struct node *target = GC_MALLOC(sizeof *target);

    holder->weak = GC_HIDE_POINTER(target);
    if (is_long)
        cr_assert_eq(GC_register_long_link((void **)&holder->weak, target), GC_SUCCESS);
    else
        cr_assert_eq(GC_GENERAL_REGISTER_DISAPPEARING_LINK((void **)&holder->weak, target),
                     GC_SUCCESS);
    cr_assert_eq(GC_general_register_disappearing_link((void **)&holder->weak, target),
                 GC_DUPLICATE);
}

Test(boehm_objects, disappearing_link_is_cleared)
{
    holder = GC_MALLOC_ATOMIC(sizeof *holder);
    weak_to_new(0);
    bt_collect();
    cr_assert_eq(holder->weak, 0);
    cr_assert_eq(GC_unregister_disappearing_link((void **)&holder->weak), 0);
}

Test(boehm_objects, long_link_is_cleared)
{
    holder = GC_MALLOC_ATOMIC(sizeof *holder);
    weak_to_new(1);
    bt_collect();
    cr_assert_eq(holder->weak, 0);
}

Test(boehm_objects, unregistered_and_moved_links)
{
    struct node *other_holder = GC_MALLOC_ATOMIC(sizeof *other_holder);

    holder = GC_MALLOC_ATOMIC(sizeof *holder);
    weak_to_new(0);
    cr_assert_eq(GC_move_disappearing_link((void **)&holder->weak, (void **)&other_holder->weak),
                 GC_SUCCESS);
    cr_assert_eq(GC_move_disappearing_link((void **)&holder->weak, (void **)&other_holder->weak),
                 GC_NOT_FOUND);
    other_holder->weak = holder->weak;
    cr_assert_eq(GC_unregister_disappearing_link((void **)&other_holder->weak), 1);
    cr_assert_eq(GC_unregister_disappearing_link((void **)&other_holder->weak), 0);
    bt_collect();
    cr_assert_neq(other_holder->weak, 0, "no longer registered: left alone");
}

NOINLINE static struct node *self_link_holder(void)
{
    struct node *n = GC_MALLOC(sizeof *n);

    n->next = GC_MALLOC(sizeof *n); /* a strong pointer: the holder keeps it */
    cr_assert_eq(GC_register_disappearing_link((void **)&n->next), GC_SUCCESS);
    return n;
}

Test(boehm_objects, old_form_link_disappears_with_its_holder)
{
    struct node *n = self_link_holder();

    bt_collect();
    cr_assert_not_null(n->next, "the holder is alive: the link stays");
    cr_assert_eq(GC_unregister_disappearing_link((void **)&n->next), 1);
}

Test(boehm_objects, old_form_link_outside_the_heap_aborts, .signal = SIGABRT)
{
    static void *link;
    GC_register_disappearing_link(&link);
}

Test(boehm_objects, link_to_static_data_never_disappears)
{
    static int forever;

    holder = GC_MALLOC_ATOMIC(sizeof *holder);
    holder->weak = GC_HIDE_POINTER(&forever);
    cr_assert_eq(GC_general_register_disappearing_link((void **)&holder->weak, &forever),
                 GC_SUCCESS);
    bt_collect();
    cr_assert_eq(GC_REVEAL_POINTER(holder->weak), (void *)&forever);
}

static void *reveal(void *arg)
{
    return GC_REVEAL_POINTER(*(GC_hidden_pointer *)arg);
}

Test(boehm_objects, call_with_alloc_lock_reveals_a_weak_pointer)
{
    void *p = GC_MALLOC(8);
    GC_hidden_pointer h = GC_HIDE_POINTER(p);

    cr_assert_eq(GC_call_with_alloc_lock(reveal, &h), p);
}
