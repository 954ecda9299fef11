/* Tests for the registry of other allocators' heaps (how MW_SHOW learns of the collector's). */
#include <criterion/criterion.h>
#include <errno.h>

#include "common/common.h"

static char heap_a[64], heap_b[64];

static int in_a(const void *p)
{
    return (const char *)p >= heap_a && (const char *)p < heap_a + sizeof heap_a;
}

static int in_b(const void *p)
{
    return (const char *)p >= heap_b && (const char *)p < heap_b + sizeof heap_b;
}

static int none1(const void *p)
{
    return p == NULL;
}

static int none2(const void *p)
{
    return p == (const void *)1;
}

static int none3(const void *p)
{
    return p == (const void *)2;
}

Test(common_heaps, nothing_registered_owns_nothing)
{
    cr_assert_null(mw__heap_kind_at(heap_a));
}

Test(common_heaps, registered_heaps_name_their_memory)
{
    cr_assert_eq(mw__heap_register("a-heap", in_a), 0);
    cr_assert_eq(mw__heap_register("b-heap", in_b), 0);
    cr_assert_str_eq(mw__heap_kind_at(heap_a + 63), "a-heap");
    cr_assert_str_eq(mw__heap_kind_at(heap_b), "b-heap");
    char elsewhere;
    cr_assert_null(mw__heap_kind_at(&elsewhere));
}

Test(common_heaps, the_same_function_again_takes_no_slot)
{
    for (int i = 0; i < 10; i++)
        cr_assert_eq(mw__heap_register("a-heap", in_a), 0);
    /* The other slots are still free. */
    cr_assert_eq(mw__heap_register("b-heap", in_b), 0);
    cr_assert_eq(mw__heap_register("n1", none1), 0);
    cr_assert_eq(mw__heap_register("n2", none2), 0);
    cr_assert_str_eq(mw__heap_kind_at(heap_a), "a-heap");
}

Test(common_heaps, a_full_table_and_null_arguments_are_errors)
{
    int (*const fns[])(const void *) = {in_a, in_b, none1, none2};

    cr_assert_eq(MW__HEAPS_MAX, 4);
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(mw__heap_register("k", fns[i]), 0);
    cr_assert_eq(mw__heap_register("k", none3), -ENOSPC);
    cr_assert_null(mw__heap_kind_at((const void *)2), "not registered");
    cr_assert_eq(mw__heap_register(NULL, none3), -EINVAL);
    cr_assert_eq(mw__heap_register("k", NULL), -EINVAL);
}
