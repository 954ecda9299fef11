/* Tests for the benchmark statistics on data whose answers are known. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include <memwalk/bench.h>

Test(bench_stats, odd_count_with_an_outlier)
{
    const double v[] = {3, 1, 100, 2, 4}; /* unsorted on purpose */
    mw_bench_stats_t st;

    cr_assert_eq(mw_bench_stats_compute(v, 5, &st), 0);
    cr_assert_float_eq(st.min, 1, 1e-12);
    cr_assert_float_eq(st.median, 3, 1e-12);
    cr_assert_float_eq(st.mean, 22, 1e-12);
    /* deviations from 3: 0 2 97 1 1 -> sorted 0 1 1 2 97 -> median 1: the outlier does not
     * move it, unlike a standard deviation. */
    cr_assert_float_eq(st.mad, 1, 1e-12);
    cr_assert_float_eq(st.max, 100, 1e-12);
}

Test(bench_stats, even_count_takes_the_middle_pair)
{
    const double v[] = {4, 1, 3, 2};
    mw_bench_stats_t st;

    cr_assert_eq(mw_bench_stats_compute(v, 4, &st), 0);
    cr_assert_float_eq(st.median, 2.5, 1e-12);
    cr_assert_float_eq(st.mean, 2.5, 1e-12);
    cr_assert_float_eq(st.mad, 1.0, 1e-12); /* deviations 1.5 .5 .5 1.5 */
}

Test(bench_stats, single_value)
{
    const double v[] = {7.5};
    mw_bench_stats_t st;

    cr_assert_eq(mw_bench_stats_compute(v, 1, &st), 0);
    cr_assert(st.min == 7.5 && st.median == 7.5 && st.mean == 7.5 && st.max == 7.5);
    cr_assert_float_eq(st.mad, 0, 1e-12);
}

Test(bench_stats, identical_values_have_no_spread)
{
    const double v[] = {5, 5, 5, 5, 5, 5};
    mw_bench_stats_t st;

    cr_assert_eq(mw_bench_stats_compute(v, 6, &st), 0);
    cr_assert_float_eq(st.mad, 0, 1e-12);
    cr_assert_float_eq(st.median, 5, 1e-12);
}

Test(bench_stats, input_is_left_untouched)
{
    const double orig[] = {9, 1, 5};
    double v[] = {9, 1, 5};
    mw_bench_stats_t st;

    cr_assert_eq(mw_bench_stats_compute(v, 3, &st), 0);
    cr_assert_arr_eq(v, orig, sizeof v);
}

Test(bench_stats, rejects_empty_nan_and_null)
{
    const double v[] = {1, NAN, 3};
    mw_bench_stats_t st = {.median = 42};

    cr_assert_eq(mw_bench_stats_compute(v, 0, &st), -EINVAL);
    cr_assert_eq(mw_bench_stats_compute(v, 3, &st), -EINVAL);
    cr_assert_eq(mw_bench_stats_compute(NULL, 3, &st), -EINVAL);
    cr_assert_eq(mw_bench_stats_compute(v, 1, NULL), -EINVAL);
    cr_assert_float_eq(st.median, 42, 1e-12, "output written only on success");
}
