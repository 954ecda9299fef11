/* Order statistics of benchmark samples: min, median, mean, median absolute deviation, max. */
#include "bench/bench_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The median of sorted v[0..n-1], n > 0: the middle value, or the mean of the two middle ones. */
static double sorted_median(const double *v, size_t n)
{
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

int mw_bench_stats_compute(const double *values, size_t n, mw_bench_stats_t *out)
{
    mw_bench_stats_t st;
    double *v, sum = 0;

    if (!values || !out || n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (isnan(values[i]))
            return -EINVAL;
    v = malloc(n * sizeof *v);
    if (!v)
        return -ENOMEM;
    memcpy(v, values, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    st.min = v[0];
    st.max = v[n - 1];
    st.median = sorted_median(v, n);
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    st.mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        v[i] = fabs(v[i] - st.median);
    qsort(v, n, sizeof *v, cmp_double);
    st.mad = sorted_median(v, n);
    free(v);
    *out = st;
    return 0;
}
