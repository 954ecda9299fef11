/* Tests for MW_BENCH registration and the name filter. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <memwalk/bench.h>

static void nothing(uint64_t iters, void *arg)
{
    (void)iters, (void)arg;
}

MW_BENCH(reg_first, nothing);
MW_BENCH_SPEC(reg_second, .fn = nothing, .iters = 42, .samples = 3);
static const mw_bench_spec_t *find(const char *name, size_t *index)
{
    for (size_t i = 0; i < mw_bench_registered_count(); i++)
        if (strcmp(mw_bench_registered(i)->name, name) == 0) {
            *index = i;
            return mw_bench_registered(i);
        }
    return NULL;
}

Test(bench_registry, macros_register_before_main_in_order)
{
    size_t a = 0, b = 0;
    const mw_bench_spec_t *first = find("reg_first", &a), *second = find("reg_second", &b);

    cr_assert_not_null(first);
    cr_assert_not_null(second);
    cr_assert_lt(a, b, "registration keeps source order");
    cr_assert_eq(first->fn, nothing);
    cr_assert_eq(second->iters, 42);
    cr_assert_eq(second->samples, 3);
}

Test(bench_registry, past_the_end_is_null)
{
    cr_assert_null(mw_bench_registered(mw_bench_registered_count()));
}

Test(bench_registry, registering_twice_is_harmless)
{
    static mw_bench_reg_t reg = {{.name = "twice", .fn = nothing}, NULL};
    size_t before = mw_bench_registered_count();

    mw_bench_register(&reg);
    mw_bench_register(&reg);
    cr_assert_eq(mw_bench_registered_count(), before + 1);
}

Test(bench_registry, filter_is_an_extended_regex_searched_anywhere)
{
    cr_assert_eq(mw_bench_filter_match("heap", "stack-vs-heap/free"), 1);
    cr_assert_eq(mw_bench_filter_match("^heap", "stack-vs-heap/free"), 0);
    cr_assert_eq(mw_bench_filter_match("stack|reuse", "reuse/64"), 1);
    cr_assert_eq(mw_bench_filter_match("size/[0-9]+K", "size/64K"), 1);
    cr_assert_eq(mw_bench_filter_match(NULL, "anything"), 1);
    cr_assert_eq(mw_bench_filter_match("", "anything"), 1);
}

Test(bench_registry, bad_regex_is_einval)
{
    cr_assert_eq(mw_bench_filter_match("([", "x"), -EINVAL);
}
