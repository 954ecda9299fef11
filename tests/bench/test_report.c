/* Tests for the report writers: table, CSV, JSON, SVG, and the ratios to a baseline. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memwalk/bench.h>

/* Two results with known medians: 100 ns and 250 ns per operation. */
static mw_bench_result_t results[2];

static void make_results(void)
{
    memset(results, 0, sizeof results);
    snprintf(results[0].name, sizeof results[0].name, "fast");
    results[0].iters = 1000;
    results[0].samples = 5;
    results[0].wall_ns = (mw_bench_stats_t){90, 100, 101, 2, 120};
    results[0].cpu_ns = (mw_bench_stats_t){90, 99, 100, 2, 118};
    snprintf(results[1].name, sizeof results[1].name, "slow,\"quoted\"");
    results[1].iters = 400;
    results[1].samples = 5;
    results[1].wall_ns = (mw_bench_stats_t){200, 250, 260, 40, 400};
    results[1].minflt = (mw_bench_stats_t){10, 12, 12, 1, 14};
    results[1].minflt_per_op = 12.0 / 400;
    results[1].spread = 40.0 / 250;
    results[1].wide = 1;
    results[1].max_spread = 0.10;
}

/* Runs a writer into a string; the caller frees it. */
static char *capture(int (*writer)(FILE *, const mw_bench_report_t *), const mw_bench_report_t *rep,
                     int *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    cr_assert_not_null(f);
    *err = writer(f, rep);
    fclose(f);
    return buf;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

Test(bench_report, text_table_has_a_row_per_result_and_the_ratio, .init = make_results)
{
    mw_bench_report_t rep = {.title = "demo", .results = results, .count = 2, .baseline = "fast"};
    int err;
    char *out = capture(mw_bench_write_text, &rep, &err);

    cr_assert_eq(err, 0);
    cr_assert(strstr(out, "demo\n") == out);
    cr_assert_not_null(strstr(out, "100 ns"));
    cr_assert_not_null(strstr(out, "250 ns"));
    cr_assert_not_null(strstr(out, "1.00x"));
    cr_assert_not_null(strstr(out, "2.50x"));
    free(out);
}

Test(bench_report, text_warns_about_wide_spread_by_name, .init = make_results)
{
    mw_bench_report_t rep = {.results = results, .count = 2};
    int err;
    char *out = capture(mw_bench_write_text, &rep, &err);

    cr_assert_eq(err, 0);
    char *warn = strstr(out, "# warning: wide spread");
    cr_assert_not_null(warn);
    cr_assert_not_null(strstr(warn, "slow,\"quoted\" (16% > 10%)"));
    cr_assert_null(strstr(warn, "fast"));
    free(out);
}

Test(bench_report, csv_quotes_names_and_leaves_missing_ratio_empty, .init = make_results)
{
    mw_bench_report_t rep = {.results = results, .count = 2};
    int err;
    char *out = capture(mw_bench_write_csv, &rep, &err);

    cr_assert_eq(err, 0);
    cr_assert_eq(count_lines(out), 3, "a header and two rows");
    cr_assert(starts_with(out, "name,iters,samples,wall_min_ns,wall_median_ns,"));
    cr_assert_not_null(strstr(out, "\n\"slow,\"\"quoted\"\"\",400,5,200,250,260,40,400,"));
    /* Every row has as many fields as the header (the quoted comma does not count). */
    char *row = strchr(out, '\n') + 1;
    cr_assert(starts_with(row, "fast,1000,5,90,100,101,2,120,90,99,100,2,118,"));
    cr_assert_not_null(strstr(row, ",0,\n"), "no baseline: the relative column is empty");
    free(out);
}

Test(bench_report, csv_relative_column_with_baseline, .init = make_results)
{
    mw_bench_report_t rep = {.results = results, .count = 2, .baseline = "fast"};
    int err;
    char *out = capture(mw_bench_write_csv, &rep, &err);

    cr_assert_eq(err, 0);
    cr_assert_not_null(strstr(out, ",1,2.5\n"), "slow: wide=1, relative 2.5");
    free(out);
}

Test(bench_report, json_carries_every_statistic, .init = make_results)
{
    mw_bench_env_t env;
    mw_bench_env_read(&env);
    mw_bench_report_t rep = {
        .title = "t", .env = &env, .results = results, .count = 2, .baseline = "fast"};
    int err;
    char *out = capture(mw_bench_write_json, &rep, &err);

    cr_assert_eq(err, 0);
    cr_assert_not_null(strstr(out, "\"baseline\":\"fast\""));
    cr_assert_not_null(strstr(out, "\"name\":\"slow,\\\"quoted\\\"\""));
    cr_assert_not_null(strstr(
        out, "\"wall_ns\":{\"min\":200,\"median\":250,\"mean\":260,\"mad\":40,\"max\":400}"));
    cr_assert_not_null(strstr(out, "\"minflt_per_op\":0.03"));
    cr_assert_not_null(strstr(out, "\"relative\":2.5"));
    cr_assert_not_null(strstr(out, "\"env\":{\"cpu_model\":"));
    cr_assert_not_null(strstr(out, "\"warnings\":["));
    free(out);
}

Test(bench_report, json_writes_null_for_non_finite_numbers, .init = make_results)
{
    results[0].spread = NAN;
    mw_bench_report_t rep = {.results = results, .count = 1};
    int err;
    char *out = capture(mw_bench_write_json, &rep, &err);

    cr_assert_eq(err, 0);
    cr_assert_not_null(strstr(out, "\"spread\":null"));
    cr_assert_null(strstr(out, "nan"));
    free(out);
}

Test(bench_report, unknown_baseline_is_einval_and_writes_nothing, .init = make_results)
{
    mw_bench_report_t rep = {.results = results, .count = 2, .baseline = "nope"};
    int err;
    char *out = capture(mw_bench_write_csv, &rep, &err);

    cr_assert_eq(err, -EINVAL);
    cr_assert_eq(strlen(out), 0);
    free(out);
    out = capture(mw_bench_write_text, &rep, &err);
    cr_assert_eq(err, -EINVAL);
    free(out);
    out = capture(mw_bench_write_json, &rep, &err);
    cr_assert_eq(err, -EINVAL);
    free(out);
}

Test(bench_report, svg_bar_chart_names_every_result, .init = make_results)
{
    mw_bench_report_t rep = {.title = "a <chart>", .results = results, .count = 2};
    int err;
    char *out = capture(mw_bench_write_svg, &rep, &err);

    cr_assert_eq(err, 0);
    cr_assert_not_null(strstr(out, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    cr_assert_not_null(strstr(out, ">fast</text>"));
    cr_assert_not_null(strstr(out, ">slow,&quot;quoted&quot;</text>"));
    cr_assert_not_null(strstr(out, ">a &lt;chart&gt;</text>"), "text is XML-escaped");
    cr_assert_not_null(strstr(out, "</svg>\n"));
    free(out);
}

Test(bench_report, write_error_is_eio, .init = make_results)
{
    mw_bench_report_t rep = {.results = results, .count = 2};
    FILE *f = fopen("/dev/full", "w");

    cr_assert_not_null(f);
    cr_assert_eq(mw_bench_write_csv(f, &rep), -EIO);
    fclose(f);
}

/* ---- the chart writer -------------------------------------------------------------------------
 */

static char *chart_svg(const mw_bench_chart_t *c, size_t n, int *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    cr_assert_not_null(f);
    *err = mw_bench_chart_write_svg(f, c, n);
    fclose(f);
    return buf;
}

Test(bench_chart, log_size_axis_labels_powers_of_two)
{
    mw_bench_point_t pts[] = {{16, 20, NAN, NAN}, {1024, 40, 35, 50}, {64 << 20, 9e6, NAN, NAN}};
    mw_bench_series_t s = {"malloc+touch+free", pts, 3};
    mw_bench_chart_t c = {.title = "sizes",
                          .x_label = "size",
                          .y_label = "ns per call",
                          .kind = MW_BENCH_CHART_LINES,
                          .flags = MW_BENCH_CHART_LOG_X | MW_BENCH_CHART_LOG_Y |
                                   MW_BENCH_CHART_X_BYTES | MW_BENCH_CHART_Y_NS,
                          .series = &s,
                          .nseries = 1,
                          .note = "a note"};
    int err;
    char *out = chart_svg(&c, 1, &err);

    cr_assert_eq(err, 0);
    cr_assert_not_null(strstr(out, ">16 B</text>"));
    cr_assert_not_null(strstr(out, ">64 MiB</text>"));
    cr_assert_not_null(strstr(out, ">10 ms</text>"), "a decade tick above 9 ms");
    cr_assert_not_null(strstr(out, ">malloc+touch+free</text>"), "the legend");
    cr_assert_not_null(strstr(out, ">a note</text>"));
    size_t circles = 0;
    for (char *p = out; (p = strstr(p, "<circle")); p++)
        circles++;
    cr_assert_eq(circles, 3);
    free(out);
}

Test(bench_chart, log_axes_skip_non_positive_points)
{
    mw_bench_point_t pts[] = {{1, 10, NAN, NAN}, {2, 0, NAN, NAN}, {4, 30, NAN, NAN}};
    mw_bench_series_t s = {"s", pts, 3};
    mw_bench_chart_t c = {
        .kind = MW_BENCH_CHART_LINES, .flags = MW_BENCH_CHART_LOG_Y, .series = &s, .nseries = 1};
    int err;
    char *out = chart_svg(&c, 1, &err);

    cr_assert_eq(err, 0);
    size_t circles = 0, lines = 0;
    for (char *p = out; (p = strstr(p, "<circle")); p++)
        circles++;
    for (char *p = out; (p = strstr(p, "class=\"line\"")); p++)
        lines++;
    cr_assert_eq(circles, 2);
    cr_assert_eq(lines, 2, "the line breaks at the missing point");
    free(out);
}

Test(bench_chart, bars_need_categories)
{
    mw_bench_point_t pts[] = {{0, 1, NAN, NAN}};
    mw_bench_series_t s = {"s", pts, 1};
    mw_bench_chart_t c = {.kind = MW_BENCH_CHART_BARS, .series = &s, .nseries = 1};
    int err;
    char *out = chart_svg(&c, 1, &err);

    cr_assert_eq(err, -EINVAL);
    free(out);
    cr_assert_eq(mw_bench_chart_write_svg(stdout, NULL, 1), -EINVAL);
    cr_assert_eq(mw_bench_chart_write_svg(stdout, &c, 0), -EINVAL);
}

Test(bench_chart, several_charts_stack_in_one_document)
{
    const char *cats[] = {"one", "two"};
    mw_bench_point_t a[] = {{0, 5, 4, 6}, {1, 7, NAN, NAN}};
    mw_bench_series_t s = {"s", a, 2};
    mw_bench_chart_t c[2] = {
        {.title = "first",
         .kind = MW_BENCH_CHART_BARS,
         .series = &s,
         .nseries = 1,
         .categories = cats,
         .ncategories = 2},
        {.title = "second", .kind = MW_BENCH_CHART_LINES, .series = &s, .nseries = 1},
    };
    int err;
    char *out = chart_svg(c, 2, &err);

    cr_assert_eq(err, 0);
    cr_assert_not_null(strstr(out, ">first</text>"));
    cr_assert_not_null(strstr(out, ">second</text>"));
    char *svg = strstr(out, "<svg");
    cr_assert_not_null(svg);
    cr_assert_null(strstr(svg + 1, "<svg"), "one document");
    free(out);
}
