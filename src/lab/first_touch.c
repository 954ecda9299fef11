/* The first-touch experiment: what touching a page costs when it is fresh, when it was touched
 * before, when it was given back with MADV_DONTNEED, and with transparent huge pages. */
#include "lab/lab.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_SIZE (2u * 1024 * 1024)

struct ft_ctx {
    enum mw__ft_case which;
    size_t page;
    size_t max_pages; /* region size cap for the reused case */
    char *map;        /* the mapping as mmap returned it */
    size_t map_len;
    char *base; /* where the touched pages start (aligned for huge pages) */
    size_t pages;
};

static void touch(char *base, size_t page, size_t pages, uint64_t count)
{
    size_t i = 0;

    for (uint64_t n = 0; n < count; n++) {
        base[i * page] = (char)n;
        if (++i == pages)
            i = 0;
    }
    mw_bench_keep(base);
}

static int ft_setup(uint64_t iters, void *arg)
{
    struct ft_ctx *c = arg;

    c->pages = c->which == MW__FT_REUSED && iters > c->max_pages ? c->max_pages : iters;
    c->map_len = c->pages * c->page + (c->which == MW__FT_HUGE ? HUGE_SIZE : 0);
    c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c->map == MAP_FAILED)
        return -errno;
    c->base = c->map;
    if (c->which == MW__FT_HUGE) {
        uintptr_t a = ((uintptr_t)c->map + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1);
        c->base = (char *)a;
        if (madvise(c->base, c->pages * c->page, MADV_HUGEPAGE) < 0)
            return -errno;
        return 0;
    }
    /* 4 KiB pages, whatever the system's THP mode: one fault per page touched. */
    madvise(c->map, c->map_len, MADV_NOHUGEPAGE);
    if (c->which == MW__FT_REUSED || c->which == MW__FT_DONTNEED)
        touch(c->base, c->page, c->pages, c->pages);
    if (c->which == MW__FT_DONTNEED && madvise(c->base, c->pages * c->page, MADV_DONTNEED) < 0)
        return -errno;
    return 0;
}

static void ft_touch(uint64_t iters, void *arg)
{
    struct ft_ctx *c = arg;
    touch(c->base, c->page, c->pages, iters);
}

static void ft_teardown(uint64_t iters, void *arg)
{
    struct ft_ctx *c = arg;
    (void)iters;
    munmap(c->map, c->map_len);
}

static double faults(const mw_bench_result_t *r)
{
    return r->minflt_per_op + r->majflt_per_op;
}

/* The cost of a plan: each sample of the fresh case faults every page once, the given-back
 * case twice (its setup touches them first), the huge-page case zeroes them in 2 MiB steps
 * (counted as a third of a fault a page); the reused case lasts a minimum sample. Three of the
 * cases give their pages back after each sample. */
static double ft_cost(const mw__lab_ft_t *r, unsigned samples, double min_sample,
                      const mw__lab_opts_t *o)
{
    return (samples + 1) * (double)r->pages *
               (o->fault_ns * (3 + (r->huge_possible ? 0.3 : 0)) + 3 * o->free_ns) +
           (samples + 4) * min_sample;
}

/* Fits the run to the budget: 5 samples instead of 9, then smaller regions (1 MiB at least). */
static void plan(const mw__lab_opts_t *opts, mw__lab_ft_t *r, unsigned *samples, double min_sample)
{
    double budget = opts ? opts->budget_ns : 0, fault = opts ? opts->fault_ns : 0;
    size_t want = r->pages, least = (1u << 20) / r->page;
    char b[2][32];

    if (budget > 0 && fault > 0) {
        if (ft_cost(r, *samples, min_sample, opts) > budget && *samples > 5) {
            mw__lab_cut(&r->budget, "5 samples instead of %u", *samples);
            *samples = 5;
        }
        while (ft_cost(r, *samples, min_sample, opts) > budget && r->pages / 2 >= least)
            r->pages /= 2;
        if (r->pages < want)
            mw__lab_cut(&r->budget, "%s regions instead of %s",
                        mw__format_bytes_as(r->pages * r->page, MW__BYTES_EXACT, b[0], sizeof b[0]),
                        mw__format_bytes_as(want * r->page, MW__BYTES_EXACT, b[1], sizeof b[1]));
    }
    r->budget.budget_ns = budget;
    r->budget.estimate_ns = fault > 0 ? ft_cost(r, *samples, min_sample, opts) : 0;
}

int mw__lab_first_touch(const mw__lab_opts_t *opts, mw__lab_ft_t *out)
{
    static const char *const names[MW__FT_CASES] = {"fresh", "reused", "given back",
                                                    "fresh, huge pages"};
    int quick = opts && opts->quick, err;
    mw_bench_env_t env;
    mw__lab_ft_t r;

    memset(&r, 0, sizeof r);
    r.page = (size_t)sysconf(_SC_PAGESIZE);
    r.pages = (quick ? 16u : 64u) * 1024 * 1024 / r.page;
    mw_bench_env_read(&env);
    r.huge_possible = strcmp(env.thp, "always") == 0 || strcmp(env.thp, "madvise") == 0;
    unsigned samples = quick ? 5 : 9;
    double min_sample = quick ? 1e6 : 4e6;
    plan(opts, &r, &samples, min_sample);
    struct ft_ctx ctx[MW__FT_CASES];
    mw_bench_spec_t specs[MW__FT_CASES];
    mw_bench_result_t res[MW__FT_CASES];
    int idx[MW__FT_CASES], n = 0;
    for (int k = 0; k < MW__FT_CASES; k++) {
        if (k == MW__FT_HUGE && !r.huge_possible)
            continue;
        ctx[n] =
            (struct ft_ctx){.which = (enum mw__ft_case)k, .page = r.page, .max_pages = r.pages};
        specs[n] = (mw_bench_spec_t){
            .name = names[k],
            .fn = ft_touch,
            .arg = &ctx[n],
            .setup = ft_setup,
            .teardown = ft_teardown,
            /* A fresh page can be touched once per sample: the sample is the region. Touching
             * reused pages is so cheap that it cycles over the region until the sample is long
             * enough to time. */
            .iters = k == MW__FT_REUSED ? 0 : r.pages,
            .min_sample_ns = min_sample,
            .samples = samples,
        };
        idx[n++] = k;
    }
    if ((err = mw_bench_run_group(specs, (size_t)n, res)) < 0)
        return err;
    for (int i = 0; i < n; i++) {
        r.run[idx[i]] = res[i];
        r.ran[idx[i]] = 1;
    }

    const mw_bench_result_t *fresh = &r.run[MW__FT_FRESH], *reused = &r.run[MW__FT_REUSED];
    r.fresh_vs_reused = fresh->wall_ns.median / reused->wall_ns.median;
    r.fresh_costlier = faults(fresh) >= 0.9 && faults(reused) < 0.01 && r.fresh_vs_reused > 2
                           ? MW__LAB_HOLDS
                           : MW__LAB_CONTRADICTED;
    r.given_back_pays =
        faults(&r.run[MW__FT_DONTNEED]) >= 0.9 ? MW__LAB_HOLDS : MW__LAB_CONTRADICTED;
    r.huge_fewer = !r.ran[MW__FT_HUGE]                 ? MW__LAB_UNCLEAR
                   : faults(&r.run[MW__FT_HUGE]) < 0.1 ? MW__LAB_HOLDS
                                                       : MW__LAB_CONTRADICTED;
    *out = r;
    return 0;
}

/* ---- presentation -------------------------------------------------------------------------- */

static int ft_run(const mw__lab_opts_t *opts, void *result)
{
    return mw__lab_first_touch(opts, result);
}

static void ft_table(mw__sb_t *sb, const void *result)
{
    const mw__lab_ft_t *r = result;
    char b[4][32];

    mw__sb_printf(sb, "%-18s %10s %10s %10s %10s %12s %9s\n", "pages", "per page", "min", "max",
                  "MAD", "faults/page", "vs reused");
    for (int k = 0; k < MW__FT_CASES; k++) {
        const mw_bench_result_t *x = &r->run[k];
        if (!r->ran[k]) {
            mw__sb_printf(sb, "%-18s (not run: transparent huge pages are off)\n",
                          "fresh, huge pages");
            continue;
        }
        mw__sb_printf(sb, "%-18s %10s %10s %10s %10s %12.4f %8.1fx\n", x->name,
                      mw__bench_format_ns(x->wall_ns.median, b[0], sizeof b[0]),
                      mw__bench_format_ns(x->wall_ns.min, b[1], sizeof b[1]),
                      mw__bench_format_ns(x->wall_ns.max, b[2], sizeof b[2]),
                      mw__bench_format_ns(x->wall_ns.mad, b[3], sizeof b[3]), faults(x),
                      x->wall_ns.median / r->run[MW__FT_REUSED].wall_ns.median);
    }
}

static void ft_conclude(mw__sb_t *sb, const void *result)
{
    const mw__lab_ft_t *r = result;
    const mw_bench_result_t *fresh = &r->run[MW__FT_FRESH], *reused = &r->run[MW__FT_REUSED],
                            *back = &r->run[MW__FT_DONTNEED], *huge = &r->run[MW__FT_HUGE];
    char b[4][32];

    mw__sb_printf(sb,
                  "- A fresh page cost %s to touch (%.2f faults a page), one touched before %s "
                  "(%.4f): %.0fx. %s\n",
                  mw__bench_format_ns(fresh->wall_ns.median, b[0], sizeof b[0]), faults(fresh),
                  mw__bench_format_ns(reused->wall_ns.median, b[1], sizeof b[1]), faults(reused),
                  r->fresh_vs_reused,
                  r->fresh_costlier == MW__LAB_HOLDS
                      ? "mmap only reserves addresses; the first write faults, and the kernel "
                        "finds and zeroes a page."
                      : "The expected gap between fresh and reused pages did not show on this "
                        "run.");
    mw__sb_printf(sb, "- Pages given back with MADV_DONTNEED cost %s and %.2f faults a page: %s\n",
                  mw__bench_format_ns(back->wall_ns.median, b[2], sizeof b[2]), faults(back),
                  r->given_back_pays == MW__LAB_HOLDS
                      ? "memory returned to the kernel (as free() does with large blocks) is "
                        "fresh again, and pays again."
                      : "unexpectedly, the given-back pages did not fault again.");
    if (r->ran[MW__FT_HUGE])
        mw__sb_printf(sb, "- With huge pages, %.4f faults a page and %s a page: %s\n", faults(huge),
                      mw__bench_format_ns(huge->wall_ns.median, b[3], sizeof b[3]),
                      r->huge_fewer == MW__LAB_HOLDS
                          ? "one fault maps 2 MiB at once (the zeroing remains)."
                          : "the kernel did not give huge pages here (fragmented memory or THP "
                            "disabled for this process).");
    else
        mw__sb_puts(sb, "- Huge pages were not measured: transparent huge pages are off.\n");
}

static void ft_csv(mw__sb_t *sb, const void *result)
{
    const mw__lab_ft_t *r = result;

    for (int k = 0; k < MW__FT_CASES; k++)
        if (r->ran[k]) {
            mw__lab_counts_t c = {-1, -1, -1, -1, NAN};
            mw__lab_csv_row(sb, "first-touch", r->run[k].name, r->page, "page", &r->run[k], c,
                            r->run[k].wall_ns.median / r->run[MW__FT_REUSED].wall_ns.median);
        }
}

static void ft_json(mw__json_t *j, const char *key, const void *result)
{
    const mw__lab_ft_t *r = result;
    static const char *const keys[] = {"fresh_costlier", "given_back_pays", "huge_fewer"};
    const enum mw__lab_verdict v[] = {r->fresh_costlier, r->given_back_pays, r->huge_fewer};

    mw__json_object(j, key);
    mw__json_uint(j, "page", r->page);
    mw__json_uint(j, "pages", r->pages);
    mw__json_bool(j, "huge_possible", r->huge_possible);
    mw__json_array(j, "cases");
    for (int k = 0; k < MW__FT_CASES; k++) {
        if (!r->ran[k])
            continue;
        mw__json_object(j, NULL);
        mw__json_num(j, "faults_per_page", faults(&r->run[k]));
        mw__bench_result_json(j, "result", &r->run[k],
                              r->run[k].wall_ns.median / r->run[MW__FT_REUSED].wall_ns.median);
        mw__json_end(j);
    }
    mw__json_end(j);
    mw__json_num(j, "fresh_vs_reused", r->fresh_vs_reused);
    mw__lab_json_verdicts(j, MW__ARRAY_LEN(keys), keys, v);
    mw__lab_budget_json(j, &r->budget);
    mw__json_end(j);
}

static size_t ft_charts(const void *result, mw__lab_chart_t *out)
{
    const mw__lab_ft_t *r = result;
    mw__lab_chart_t *c = &out[0];
    size_t n = 0;

    for (int k = 0; k < MW__FT_CASES; k++) {
        if (!r->ran[k])
            continue;
        const mw_bench_result_t *x = &r->run[k];
        c->points[0][n] = (mw_bench_point_t){n, x->wall_ns.median, x->wall_ns.min, x->wall_ns.max};
        snprintf(c->category_text[n], sizeof c->category_text[n], "%.24s (%.3f faults)", x->name,
                 faults(x));
        c->categories[n] = c->category_text[n];
        n++;
    }
    c->series[0] = (mw_bench_series_t){"median per page touched (min..max)", c->points[0], n};
    snprintf(c->title, sizeof c->title, "first-touch: writing one byte to each %zu-byte page",
             r->page);
    snprintf(c->note, sizeof c->note,
             "fresh: a new mapping; reused: touched before; given back: MADV_DONTNEED after a "
             "touch. Log scale: a fresh page cost %.0fx a reused one.",
             r->fresh_vs_reused);
    c->chart = (mw_bench_chart_t){.title = c->title,
                                  .y_label = "time per page (log scale)",
                                  .kind = MW_BENCH_CHART_BARS,
                                  .flags = MW_BENCH_CHART_Y_NS | MW_BENCH_CHART_LOG_Y,
                                  .series = c->series,
                                  .nseries = 1,
                                  .categories = c->categories,
                                  .ncategories = n,
                                  .note = c->note};
    return 1;
}

const mw__lab_exp_t mw__lab_first_touch_desc = {
    .name = "first-touch",
    .summary = "the cost of touching fresh pages against pages touched before",
    .measures = "Writes one byte to each page of a 64 MiB anonymous mapping (16 MiB with --quick; "
                "4 KiB pages, "
                "MADV_NOHUGEPAGE): fresh from mmap; already touched; touched then given back "
                "with MADV_DONTNEED; and fresh with MADV_HUGEPAGE when transparent huge pages are "
                "available. Mapping, pre-touching and unmapping happen outside the timing; times "
                "and faults are per page.",
    .result_size = sizeof(mw__lab_ft_t),
    .budget_offset = offsetof(mw__lab_ft_t, budget),
    .weight = 2.5,
    .run = ft_run,
    .table = ft_table,
    .conclude = ft_conclude,
    .csv = ft_csv,
    .json = ft_json,
    .charts = ft_charts,
};
