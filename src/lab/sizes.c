/* The sizes experiment: malloc, touch every page, free, from 16 B to 64 MiB, with glibc's
 * default mmap threshold and with it pinned, showing the threshold and what page faults cost. */
#include "lab/lab.h"

#include <errno.h>
#include <stddef.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THRESHOLD   (128 * 1024)
#define PROBE_CALLS 16
#define MIN_SHIFT   4  /* 16 B */
#define MAX_SHIFT   26 /* 64 MiB */

/* glibc's dynamic threshold never grows past this (DEFAULT_MMAP_THRESHOLD_MAX, 64-bit). */
#define THRESHOLD_MAX (32u << 20)

struct sizes_ctx {
    enum mw__lab_malloc_mode mode;
    int step;         /* shift step: 1 (every power of 2) or 2 */
    int max_shift;    /* the largest size measured */
    unsigned samples; /* per size */
    double min_sample_ns;
    size_t page;
    size_t size; /* of the benchmark being run */
    int failed;
};

struct sizes_child_result {
    size_t n;
    size_t size[MW__SIZES_MAX_ROWS];
    mw_bench_result_t run[MW__SIZES_MAX_ROWS];
    unsigned mmapped[MW__SIZES_MAX_ROWS];
};

static void malloc_touch_free(uint64_t iters, void *arg)
{
    struct sizes_ctx *c = arg;

    for (uint64_t i = 0; i < iters; i++) {
        char *p = malloc(c->size);
        if (!p) {
            c->failed = 1;
            return;
        }
        for (size_t off = 0; off < c->size; off += c->page)
            p[off] = (char)off;
        p[c->size - 1] = 1;
        mw_bench_keep(p);
        free(p);
    }
}

/* Runs in a child: each size in increasing order, as a program growing its requests would. */
static int sizes_child(void *arg, void *result)
{
    struct sizes_ctx *c = arg;
    struct sizes_child_result *out = result;
    int err;

    if (c->mode == MW__MODE_FIXED && mallopt(M_MMAP_THRESHOLD, THRESHOLD) != 1)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    for (int shift = MIN_SHIFT; shift <= c->max_shift && out->n < MW__SIZES_MAX_ROWS;
         shift += c->step) {
        c->size = (size_t)1 << shift;
        mw_bench_spec_t spec = {
            .name = c->mode == MW__MODE_FIXED ? "pinned" : "default",
            .fn = malloc_touch_free,
            .arg = c,
            .min_sample_ns = c->min_sample_ns,
            .samples = c->samples,
        };
        if ((err = mw_bench_run(&spec, &out->run[out->n])) < 0)
            return err;
        if (c->failed)
            return -ENOMEM;
        /* Which calls does glibc now serve by mmap? Count on a few, holding each block. */
        for (int k = 0; k < PROBE_CALLS; k++) {
            size_t before = mw__lab_mmapped_blocks();
            void *p = malloc(c->size);
            if (!p)
                return -ENOMEM;
            /* Without the barrier clang deletes this unused malloc/free pair. */
            mw_bench_keep(p);
            out->mmapped[out->n] += mw__lab_mmapped_blocks() > before;
            free(p);
        }
        out->size[out->n] = c->size;
        out->n++;
    }
    return 0;
}

static double per_call(const mw_bench_result_t *r)
{
    return r->wall_ns.median;
}

static double faults_per_call(const mw_bench_result_t *r)
{
    return r->minflt_per_op + r->majflt_per_op;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const mw__lab_sizes_row_t *row_of(const mw__lab_sizes_t *r, size_t size)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].size == size)
            return &r->rows[i];
    return NULL;
}

/* The figures and verdicts derived from the rows. */
static void derive(mw__lab_sizes_t *r)
{
    double ratios[MW__SIZES_MAX_ROWS];
    size_t nratios = 0;
    int step_ok = 1, step_seen = 0;

    for (size_t i = 0; i < r->nrows; i++) {
        const mw__lab_sizes_row_t *x = &r->rows[i];
        for (int m = 0; m < MW__MODES; m++)
            if (!r->first_mmapped[m] && x->mmapped[m] * 2 >= r->probe_calls)
                r->first_mmapped[m] = x->size;
        if (x->mmapped[MW__MODE_DEFAULT] * 2 < r->probe_calls)
            r->last_heap_default = x->size;
        const mw_bench_result_t *p = &x->run[MW__MODE_FIXED];
        double pages = (double)((x->size + r->page - 1) / r->page);
        if (x->size >= r->threshold) {
            step_seen = 1;
            step_ok &= faults_per_call(p) >= 0.9 * pages;
            if (faults_per_call(p) >= 16)
                ratios[nratios++] = per_call(p) / faults_per_call(p);
        } else if (x->size <= r->threshold / 4) {
            step_ok &= faults_per_call(p) < 1;
        }
    }
    if (nratios) {
        qsort(ratios, nratios, sizeof *ratios, cmp_double);
        r->ns_per_fault =
            nratios % 2 ? ratios[nratios / 2] : (ratios[nratios / 2 - 1] + ratios[nratios / 2]) / 2;
    }
    r->step_at_threshold = step_seen && step_ok ? MW__LAB_HOLDS : MW__LAB_CONTRADICTED;

    const mw__lab_sizes_row_t *mib = row_of(r, 1024 * 1024), *last = &r->rows[r->nrows - 1];
    r->faults_per_page = faults_per_call(&last->run[MW__MODE_FIXED]) /
                         (double)((last->size + r->page - 1) / r->page);
    r->linear_in_pages = MW__LAB_UNCLEAR;
    r->default_avoids = MW__LAB_UNCLEAR;
    if (mib && last->size > mib->size) {
        double per_page_mib = per_call(&mib->run[MW__MODE_FIXED]) / (double)(mib->size / r->page);
        double per_page_last =
            per_call(&last->run[MW__MODE_FIXED]) / (double)(last->size / r->page);
        r->per_page_growth = per_page_last / per_page_mib;
        r->linear_in_pages = r->per_page_growth > 0.5 && r->per_page_growth < 2
                                 ? MW__LAB_HOLDS
                                 : MW__LAB_CONTRADICTED;
    }
    if (mib) {
        const mw_bench_result_t *d = &mib->run[MW__MODE_DEFAULT], *p = &mib->run[MW__MODE_FIXED];
        r->pinned_vs_default_1m = per_call(p) / per_call(d);
        r->default_avoids =
            faults_per_call(d) * 10 < faults_per_call(p) && r->pinned_vs_default_1m > 2
                ? MW__LAB_HOLDS
                : MW__LAB_CONTRADICTED;
    }
}

/* The plan's estimate of one size in one mode: its samples, warm-up and calibration, each as
 * long as the minimum sample or one call, whichever is longer, and the probe calls. A call that
 * glibc maps faults in every page; one served from the heap costs little. */
static double size_cost(const struct sizes_ctx *c, size_t size, int mode, double page_ns)
{
    int mapped = mode == MW__MODE_FIXED ? size >= THRESHOLD : size >= THRESHOLD_MAX;
    double call = mapped ? (double)(size / c->page) * page_ns + 5000 : 50 + (double)size * 0.01;
    double sample = call > c->min_sample_ns ? call : c->min_sample_ns;

    return (c->samples + 3) * sample + PROBE_CALLS * 10000.0;
}

static double plan_cost(const struct sizes_ctx *c, double fault_ns)
{
    double t = 0;

    for (int shift = MIN_SHIFT; shift <= c->max_shift; shift += c->step)
        for (int m = 0; m < MW__MODES; m++)
            t += size_cost(c, (size_t)1 << shift, m, fault_ns);
    return t;
}

/* Fits the run to the budget: 5 samples instead of 9, then 1 ms samples instead of 4, then the
 * largest sizes left out (1 MiB is always measured: the threshold must show). */
static void plan(const mw__lab_opts_t *opts, struct sizes_ctx *c, mw__lab_sizes_t *r)
{
    double budget = opts ? opts->budget_ns : 0;
    double fault = opts ? opts->fault_ns + opts->free_ns : 0; /* a mapped page: in and out */
    char b[2][32];

    c->step = opts && opts->quick ? 2 : 1;
    c->max_shift = MAX_SHIFT;
    c->samples = opts && opts->quick ? 5 : 9;
    c->min_sample_ns = opts && opts->quick ? 1e6 : 4e6;
    c->page = r->page;
    if (budget > 0 && fault > 0) {
        if (plan_cost(c, fault) > budget && c->samples > 5) {
            mw__lab_cut(&r->budget, "5 samples a size instead of %u", c->samples);
            c->samples = 5;
        }
        if (plan_cost(c, fault) > budget && c->min_sample_ns > 1e6) {
            mw__lab_cut(&r->budget, "1 ms samples instead of 4 ms");
            c->min_sample_ns = 1e6;
        }
        double full = plan_cost(c, fault);
        while (plan_cost(c, fault) > budget && c->max_shift - c->step >= 20)
            c->max_shift -= c->step;
        if (c->max_shift < MAX_SHIFT)
            mw__lab_cut(
                &r->budget, "sizes above %s left out (up to %s would take %.1f s more)",
                mw__format_bytes_as((size_t)1 << c->max_shift, MW__BYTES_EXACT, b[0], sizeof b[0]),
                mw__format_bytes_as((size_t)1 << MAX_SHIFT, MW__BYTES_EXACT, b[1], sizeof b[1]),
                (full - plan_cost(c, fault)) / 1e9);
    }
    r->size_step = (size_t)1 << c->step;
    r->max_size_planned = (size_t)1 << c->max_shift;
    r->budget.budget_ns = budget;
    r->budget.estimate_ns = fault > 0 ? plan_cost(c, fault) : 0;
}

static MW__LAB_CHILD(sizes_child_desc, "sizes", sizes_child, sizeof(struct sizes_ctx),
                     sizeof(struct sizes_child_result));
int mw__lab_sizes(const mw__lab_opts_t *opts, mw__lab_sizes_t *out)
{
    mw__lab_sizes_t *r = calloc(1, sizeof *r);
    struct sizes_child_result *res = malloc(sizeof *res);
    int err = 0;

    if (!r || !res) {
        err = -ENOMEM;
        goto out;
    }
    r->page = (size_t)sysconf(_SC_PAGESIZE);
    r->threshold = THRESHOLD;
    r->probe_calls = PROBE_CALLS;
    struct sizes_ctx plan_ctx = {0};
    plan(opts, &plan_ctx, r);
    for (int m = 0; m < MW__MODES; m++) {
        struct sizes_ctx ctx = plan_ctx;
        ctx.mode = (enum mw__lab_malloc_mode)m;
        if ((err = mw__lab_in_child(&sizes_child_desc, &ctx, res)) < 0)
            goto out;
        r->nrows = res->n;
        for (size_t i = 0; i < res->n; i++) {
            r->rows[i].size = res->size[i];
            r->rows[i].run[m] = res->run[i];
            r->rows[i].mmapped[m] = res->mmapped[i];
        }
    }
    derive(r);
    *out = *r;
out:
    free(r);
    free(res);
    return err;
}

/* ---- presentation -------------------------------------------------------------------------- */

static int sizes_run(const mw__lab_opts_t *opts, void *result)
{
    return mw__lab_sizes(opts, result);
}

static void sizes_table(mw__sb_t *sb, const void *result)
{
    const mw__lab_sizes_t *r = result;
    char b[5][32];

    mw__sb_printf(sb, "%-9s | %10s %11s %8s | %10s %11s %8s | %8s\n", "", "default:", "", "",
                  "pinned:", "", "", "");
    mw__sb_printf(sb, "%-9s | %10s %11s %8s | %10s %11s %8s | %8s\n", "size", "per call",
                  "faults/call", "mmapped", "per call", "faults/call", "mmapped", "pinned/d");
    for (size_t i = 0; i < r->nrows; i++) {
        const mw__lab_sizes_row_t *x = &r->rows[i];
        const mw_bench_result_t *d = &x->run[MW__MODE_DEFAULT], *p = &x->run[MW__MODE_FIXED];
        mw__sb_printf(sb, "%-9s | %10s %11.1f %5u/%-2u | %10s %11.1f %5u/%-2u | %7.2fx\n",
                      mw__format_bytes_as(x->size, MW__BYTES_EXACT, b[0], sizeof b[0]),
                      mw__bench_format_ns(per_call(d), b[1], sizeof b[1]), faults_per_call(d),
                      x->mmapped[MW__MODE_DEFAULT], r->probe_calls,
                      mw__bench_format_ns(per_call(p), b[2], sizeof b[2]), faults_per_call(p),
                      x->mmapped[MW__MODE_FIXED], r->probe_calls, per_call(p) / per_call(d));
    }
}

/* Where glibc switched to mmap in mode m, as far as the sizes measured tell: "from 256 KiB on"
 * when the size just below was measured and came from the heap, otherwise the interval the
 * sparse sampling leaves ("from somewhere above 16 MiB, by 64 MiB"). NULL when no size was
 * mapped. */
static const char *switch_point(const mw__lab_sizes_t *r, int m, char *buf, size_t len)
{
    char a[32], b[32];
    size_t i;

    for (i = 0; i < r->nrows && r->rows[i].mmapped[m] * 2 < r->probe_calls; i++)
        ;
    if (i == r->nrows)
        return NULL;
    mw__format_bytes_as(r->rows[i].size, MW__BYTES_EXACT, b, sizeof b);
    if (i > 0 && r->rows[i - 1].size * 2 == r->rows[i].size)
        snprintf(buf, len, "from %s on", b);
    else if (i > 0)
        snprintf(buf, len,
                 "from somewhere above %s (still the heap) and by %s (sizes between "
                 "were not measured)",
                 mw__format_bytes_as(r->rows[i - 1].size, MW__BYTES_EXACT, a, sizeof a), b);
    else
        snprintf(buf, len, "from %s (the smallest size measured) on", b);
    return buf;
}

static void sizes_conclude(mw__sb_t *sb, const void *result)
{
    const mw__lab_sizes_t *r = result;
    const mw__lab_sizes_row_t *mib = row_of(r, 1024 * 1024);
    char b[6][32], where[160];

    if (switch_point(r, MW__MODE_FIXED, where, sizeof where))
        mw__sb_printf(
            sb,
            "- Pinned at %s, glibc served every call %s with a fresh mapping: "
            "%.2f faults per page touched at %s, about %s per fault (zeroing a page "
            "included). %s\n",
            mw__format_bytes_as(r->threshold, MW__BYTES_EXACT, b[0], sizeof b[0]), where,
            r->faults_per_page,
            mw__format_bytes_as(r->rows[r->nrows - 1].size, MW__BYTES_EXACT, b[2], sizeof b[2]),
            mw__bench_format_ns(r->ns_per_fault, b[3], sizeof b[3]),
            r->step_at_threshold == MW__LAB_HOLDS
                ? "Below the threshold the calls reused heap memory and did not fault: "
                  "the cost steps up at the threshold."
                : "The fault counts do not show a clean step at the threshold on this "
                  "run.");
    else
        mw__sb_puts(sb, "- Pinned, no size was served by mmap: the threshold did not show.\n");
    if (r->linear_in_pages == MW__LAB_HOLDS)
        mw__sb_printf(sb,
                      "- Above it the cost is the pages: time per page at the largest size was "
                      "%.2fx that at 1 MiB, so a mapped allocation costs in proportion to the "
                      "memory it touches.\n",
                      r->per_page_growth);
    else if (r->linear_in_pages == MW__LAB_CONTRADICTED)
        mw__sb_printf(sb,
                      "- Time per page at the largest size was %.2fx that at 1 MiB: not the "
                      "proportional cost expected (huge pages or memory pressure?).\n",
                      r->per_page_growth);
    if (!mib)
        return;
    mw__sb_printf(sb,
                  "- With glibc's defaults, 1 MiB cost %s and %.1f faults a call against %s "
                  "and %.1f pinned (%.1fx): %s",
                  mw__bench_format_ns(per_call(&mib->run[MW__MODE_DEFAULT]), b[0], sizeof b[0]),
                  faults_per_call(&mib->run[MW__MODE_DEFAULT]),
                  mw__bench_format_ns(per_call(&mib->run[MW__MODE_FIXED]), b[1], sizeof b[1]),
                  faults_per_call(&mib->run[MW__MODE_FIXED]), r->pinned_vs_default_1m,
                  r->default_avoids == MW__LAB_HOLDS
                      ? "freeing a mapped block raised the threshold, so repeated calls of "
                        "one size reused memory instead of faulting it in again."
                      : "the default threshold did not spare the faults on this run.");
    if (switch_point(r, MW__MODE_DEFAULT, where, sizeof where))
        mw__sb_printf(sb, " Up to %s it served the calls from the heap; it mapped every call %s.\n",
                      r->last_heap_default ? mw__format_bytes_as(r->last_heap_default,
                                                                 MW__BYTES_EXACT, b[4], sizeof b[4])
                                           : "no size",
                      where);
    else
        mw__sb_printf(
            sb, " Every size measured, up to %s, came from the heap%s.\n",
            mw__format_bytes_as(r->rows[r->nrows - 1].size, MW__BYTES_EXACT, b[4], sizeof b[4]),
            r->rows[r->nrows - 1].size < THRESHOLD_MAX
                ? ": the larger sizes, where glibc maps every call again, were not "
                  "measured"
                : "");
}

static void sizes_csv(mw__sb_t *sb, const void *result)
{
    const mw__lab_sizes_t *r = result;

    for (size_t i = 0; i < r->nrows; i++)
        for (int m = 0; m < MW__MODES; m++) {
            const mw__lab_sizes_row_t *x = &r->rows[i];
            mw__lab_counts_t c = {r->probe_calls, -1, -1, x->mmapped[m], NAN};
            mw__lab_csv_row(sb, "sizes", m == MW__MODE_FIXED ? "pinned" : "default", x->size,
                            "call", &x->run[m], c,
                            per_call(&x->run[m]) / per_call(&x->run[MW__MODE_DEFAULT]));
        }
}

static void sizes_json(mw__json_t *j, const char *key, const void *result)
{
    const mw__lab_sizes_t *r = result;
    static const char *const keys[] = {"step_at_threshold", "linear_in_pages", "default_avoids"};
    const enum mw__lab_verdict v[] = {r->step_at_threshold, r->linear_in_pages, r->default_avoids};

    mw__json_object(j, key);
    mw__json_uint(j, "page", r->page);
    mw__json_uint(j, "threshold", r->threshold);
    mw__json_uint(j, "probe_calls", r->probe_calls);
    mw__json_array(j, "rows");
    for (size_t i = 0; i < r->nrows; i++) {
        const mw__lab_sizes_row_t *x = &r->rows[i];
        mw__json_object(j, NULL);
        mw__json_uint(j, "size", x->size);
        for (int m = 0; m < MW__MODES; m++) {
            mw__json_object(j, m == MW__MODE_FIXED ? "pinned" : "default");
            mw__json_uint(j, "mmapped", x->mmapped[m]);
            mw__json_num(j, "faults_per_call", faults_per_call(&x->run[m]));
            mw__bench_result_json(j, "result", &x->run[m], NAN);
            mw__json_end(j);
        }
        mw__json_end(j);
    }
    mw__json_end(j);
    mw__json_uint(j, "first_mmapped_default", r->first_mmapped[MW__MODE_DEFAULT]);
    mw__json_uint(j, "first_mmapped_pinned", r->first_mmapped[MW__MODE_FIXED]);
    mw__json_uint(j, "last_heap_default", r->last_heap_default);
    mw__json_num(j, "ns_per_fault", r->ns_per_fault);
    mw__json_num(j, "faults_per_page", r->faults_per_page);
    mw__json_num(j, "per_page_growth", r->per_page_growth);
    mw__json_num(j, "pinned_vs_default_1m", r->pinned_vs_default_1m);
    mw__lab_json_verdicts(j, MW__ARRAY_LEN(keys), keys, v);
    mw__json_uint(j, "size_step", r->size_step);
    mw__json_uint(j, "max_size_planned", r->max_size_planned);
    mw__lab_budget_json(j, &r->budget);
    mw__json_end(j);
}

static size_t sizes_charts(const void *result, mw__lab_chart_t *out)
{
    const mw__lab_sizes_t *r = result;
    char b[2][32];

    for (int k = 0; k < 2; k++) {
        mw__lab_chart_t *c = &out[k];
        for (int m = 0; m < MW__MODES; m++) {
            for (size_t i = 0; i < r->nrows; i++) {
                const mw_bench_result_t *x = &r->rows[i].run[m];
                c->points[m][i] = k == 0 ? (mw_bench_point_t){(double)r->rows[i].size, per_call(x),
                                                              x->wall_ns.min, x->wall_ns.max}
                                         : (mw_bench_point_t){(double)r->rows[i].size,
                                                              faults_per_call(x), NAN, NAN};
            }
            c->series[m] = (mw_bench_series_t){m == MW__MODE_FIXED ? "threshold pinned at 128 KiB"
                                                                   : "glibc default threshold",
                                               c->points[m], r->nrows};
        }
        snprintf(c->title, sizeof c->title, "sizes: malloc + touch every page + free, %s",
                 k == 0 ? "time per call (median, min..max)" : "page faults per call");
        if (k == 0)
            snprintf(c->note, sizeof c->note,
                     "pinned: every call from %s on is a fresh mapping, about %s per page fault; "
                     "default: glibc raises its threshold when a mapped block is freed",
                     r->first_mmapped[MW__MODE_FIXED]
                         ? mw__format_bytes_as(r->first_mmapped[MW__MODE_FIXED], MW__BYTES_EXACT,
                                               b[0], sizeof b[0])
                         : "(none)",
                     mw__bench_format_ns(r->ns_per_fault, b[1], sizeof b[1]));
        else
            snprintf(c->note, sizeof c->note,
                     "zero faults are left out of the log scale: %s%s; one fault per %zu-byte "
                     "page touched is the price of fresh memory",
                     r->first_mmapped[MW__MODE_DEFAULT] ? "the default mode faulted from "
                                                        : "the default mode faulted at no size "
                                                          "measured",
                     r->first_mmapped[MW__MODE_DEFAULT]
                         ? mw__format_bytes_as(r->first_mmapped[MW__MODE_DEFAULT], MW__BYTES_EXACT,
                                               b[0], sizeof b[0])
                         : "",
                     r->page);
        c->chart =
            (mw_bench_chart_t){.title = c->title,
                               .x_label = "allocation size",
                               .y_label = k == 0 ? "time per call" : "faults per call",
                               .kind = MW_BENCH_CHART_LINES,
                               .flags = MW_BENCH_CHART_LOG_X | MW_BENCH_CHART_LOG_Y |
                                        MW_BENCH_CHART_X_BYTES | (k == 0 ? MW_BENCH_CHART_Y_NS : 0),
                               .series = c->series,
                               .nseries = MW__MODES,
                               .note = c->note};
    }
    return 2;
}

const mw__lab_exp_t mw__lab_sizes_desc = {
    .name = "sizes",
    .summary = "malloc + touch + free from 16 B to 64 MiB: the mmap threshold and page faults",
    .measures = "For each power of two from 16 B to 64 MiB: malloc, write one byte per page, free, "
                "timed per call with page faults per call, in increasing order of size. Run "
                "twice, each in a fresh process: with glibc's defaults, and with the mmap "
                "threshold pinned at 128 KiB; after each size, 16 more calls count how many "
                "glibc served with mmap.",
    .result_size = sizeof(mw__lab_sizes_t),
    .budget_offset = offsetof(mw__lab_sizes_t, budget),
    .weight = 4,
    .run = sizes_run,
    .table = sizes_table,
    .conclude = sizes_conclude,
    .csv = sizes_csv,
    .json = sizes_json,
    .charts = sizes_charts,
};
