/* The report writers: a text table, CSV and JSON, each with the ratio to a baseline result. */
#include "bench/bench_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>

const char *mw__bench_ns_unit(double ns, double *scaled)
{
    static const struct {
        double scale;
        const char *unit;
    } units[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}, {1, "ns"}};
    size_t u = 0;

    while (u + 1 < MW__ARRAY_LEN(units) && fabs(ns) < units[u].scale)
        u++;
    *scaled = ns / units[u].scale;
    return units[u].unit;
}

const char *mw__bench_format_ns(double ns, char *buf, size_t len)
{
    double v;
    const char *unit = mw__bench_ns_unit(ns, &v);

    if (isnan(ns)) {
        snprintf(buf, len, "-");
        return buf;
    }
    /* Three significant digits: 3.10 us, 31.0 us, 310 us. */
    int decimals = fabs(v) >= 100 ? 0 : fabs(v) >= 10 ? 1 : 2;
    snprintf(buf, len, "%.*f %s", decimals, v, unit);
    return buf;
}

static void stats_json(mw__json_t *j, const char *key, const mw_bench_stats_t *st)
{
    mw__json_object(j, key);
    mw__json_num(j, "min", st->min);
    mw__json_num(j, "median", st->median);
    mw__json_num(j, "mean", st->mean);
    mw__json_num(j, "mad", st->mad);
    mw__json_num(j, "max", st->max);
    mw__json_end(j);
}

void mw__bench_result_json(mw__json_t *j, const char *key, const mw_bench_result_t *r,
                           double relative)
{
    mw__json_object(j, key);
    mw__json_str(j, "name", r->name);
    mw__json_uint(j, "iters", r->iters);
    mw__json_uint(j, "samples", r->samples);
    stats_json(j, "wall_ns", &r->wall_ns);
    stats_json(j, "cpu_ns", &r->cpu_ns);
    stats_json(j, "minflt", &r->minflt);
    stats_json(j, "majflt", &r->majflt);
    mw__json_num(j, "minflt_per_op", r->minflt_per_op);
    mw__json_num(j, "majflt_per_op", r->majflt_per_op);
    mw__json_num(j, "spread", r->spread);
    mw__json_bool(j, "wide", r->wide);
    mw__json_num(j, "max_spread", r->max_spread);
    mw__json_num(j, "total_ns", r->total_ns);
    mw__json_num(j, "relative", relative);
    mw__json_end(j);
}

int mw__bench_flush(FILE *out, mw__sb_t *sb)
{
    int err = sb->err;

    if (!err && sb->len && fwrite(sb->buf, 1, sb->len, out) != sb->len)
        err = -EIO;
    if (!err && (fflush(out) != 0 || ferror(out)))
        err = -EIO;
    mw__sb_free(sb);
    return err;
}

/* The baseline's median, NaN without a baseline; -EINVAL when the name is not among results. */
static int baseline_median(const mw_bench_report_t *rep, double *median)
{
    *median = NAN;
    if (!rep->baseline)
        return 0;
    for (size_t i = 0; i < rep->count; i++)
        if (strcmp(rep->results[i].name, rep->baseline) == 0) {
            *median = rep->results[i].wall_ns.median;
            return 0;
        }
    return -EINVAL;
}

static double relative_to(const mw_bench_result_t *r, double base)
{
    return base > 0 ? r->wall_ns.median / base : NAN;
}

static int check_report(const mw_bench_report_t *rep)
{
    if (!rep || (rep->count && !rep->results))
        return -EINVAL;
    return 0;
}

int mw_bench_write_text(FILE *out, const mw_bench_report_t *rep)
{
    mw__sb_t sb = {0};
    double base;
    int err, width = 4;
    size_t wide = 0;
    char b[6][32];

    if ((err = check_report(rep)) < 0 || (err = baseline_median(rep, &base)) < 0)
        return err;
    if (rep->title)
        fprintf(out, "%s\n", rep->title);
    if (rep->env && mw_bench_env_write(out, rep->env) < 0)
        return -EIO;
    for (size_t i = 0; i < rep->count; i++) {
        int len = (int)strlen(rep->results[i].name);
        width = len > width ? len : width;
        wide += rep->results[i].wide != 0;
    }
    mw__sb_printf(&sb, "%-*s %10s %7s %10s %10s %10s %10s %10s %10s %10s", width, "name", "iters",
                  "samples", "min", "median", "mean", "MAD", "max", "cpu", "faults");
    if (rep->baseline)
        mw__sb_printf(&sb, " %9s", "relative");
    mw__sb_putc(&sb, '\n');
    for (size_t i = 0; i < rep->count; i++) {
        const mw_bench_result_t *r = &rep->results[i];
        mw__sb_printf(&sb, "%-*s %10llu %7u %10s %10s %10s %10s %10s %10s %10.1f", width, r->name,
                      (unsigned long long)r->iters, r->samples,
                      mw__bench_format_ns(r->wall_ns.min, b[0], sizeof b[0]),
                      mw__bench_format_ns(r->wall_ns.median, b[1], sizeof b[1]),
                      mw__bench_format_ns(r->wall_ns.mean, b[2], sizeof b[2]),
                      mw__bench_format_ns(r->wall_ns.mad, b[3], sizeof b[3]),
                      mw__bench_format_ns(r->wall_ns.max, b[4], sizeof b[4]),
                      mw__bench_format_ns(r->cpu_ns.median, b[5], sizeof b[5]),
                      r->minflt.median + r->majflt.median);
        if (rep->baseline) {
            double rel = relative_to(r, base);
            if (isnan(rel))
                mw__sb_printf(&sb, " %9s", "-");
            else
                mw__sb_printf(&sb, " %8.2fx", rel);
        }
        mw__sb_putc(&sb, '\n');
    }
    mw__sb_puts(&sb, "# times per operation (wall clock; cpu = process CPU time); faults = page "
                     "faults per sample (median)\n");
    if (wide) {
        mw__sb_puts(&sb, "# warning: wide spread (MAD over median above its bound) for:");
        for (size_t i = 0; i < rep->count; i++)
            if (rep->results[i].wide)
                mw__sb_printf(&sb, " %s (%.0f%% > %.0f%%)", rep->results[i].name,
                              rep->results[i].spread * 100, rep->results[i].max_spread * 100);
        mw__sb_puts(&sb, "; do not trust small differences, rerun on a quiet machine\n");
    }
    return mw__bench_flush(out, &sb);
}

static void csv_num(mw__sb_t *sb, double v)
{
    mw__sb_putc(sb, ',');
    mw__sb_double(sb, v); /* nothing when not finite: an empty cell */
}

static void csv_stats(mw__sb_t *sb, const mw_bench_stats_t *st)
{
    csv_num(sb, st->min);
    csv_num(sb, st->median);
    csv_num(sb, st->mean);
    csv_num(sb, st->mad);
    csv_num(sb, st->max);
}

int mw_bench_write_csv(FILE *out, const mw_bench_report_t *rep)
{
    mw__sb_t sb = {0};
    double base;
    int err;

    if ((err = check_report(rep)) < 0 || (err = baseline_median(rep, &base)) < 0)
        return err;
    mw__sb_puts(&sb, "name,iters,samples,wall_min_ns,wall_median_ns,wall_mean_ns,wall_mad_ns,"
                     "wall_max_ns,cpu_min_ns,cpu_median_ns,cpu_mean_ns,cpu_mad_ns,cpu_max_ns,"
                     "minflt_median,majflt_median,minflt_per_op,majflt_per_op,spread,wide,"
                     "relative\n");
    for (size_t i = 0; i < rep->count; i++) {
        const mw_bench_result_t *r = &rep->results[i];
        mw__sb_csv_str(&sb, r->name);
        mw__sb_printf(&sb, ",%llu,%u", (unsigned long long)r->iters, r->samples);
        csv_stats(&sb, &r->wall_ns);
        csv_stats(&sb, &r->cpu_ns);
        csv_num(&sb, r->minflt.median);
        csv_num(&sb, r->majflt.median);
        csv_num(&sb, r->minflt_per_op);
        csv_num(&sb, r->majflt_per_op);
        csv_num(&sb, r->spread);
        mw__sb_printf(&sb, ",%d", r->wide ? 1 : 0);
        csv_num(&sb, relative_to(r, base));
        mw__sb_putc(&sb, '\n');
    }
    return mw__bench_flush(out, &sb);
}

int mw_bench_write_json(FILE *out, const mw_bench_report_t *rep)
{
    mw__sb_t sb = {0};
    mw__json_t j;
    double base;
    int err;

    if ((err = check_report(rep)) < 0 || (err = baseline_median(rep, &base)) < 0)
        return err;
    mw__json_init(&j, &sb);
    mw__json_object(&j, NULL);
    mw__json_str(&j, "title", rep->title);
    if (rep->env)
        mw__bench_env_json(&j, "env", rep->env);
    else
        mw__json_null(&j, "env");
    mw__json_str(&j, "baseline", rep->baseline);
    mw__json_rows(&j, "results");
    for (size_t i = 0; i < rep->count; i++)
        mw__bench_result_json(&j, NULL, &rep->results[i], relative_to(&rep->results[i], base));
    mw__json_end(&j);
    mw__json_end(&j);
    if ((err = mw__json_finish(&j)) < 0) {
        mw__sb_free(&sb);
        return err;
    }
    mw__sb_putc(&sb, '\n');
    return mw__bench_flush(out, &sb);
}
