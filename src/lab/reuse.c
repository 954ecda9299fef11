/* The reuse experiment: how often malloc hands back the block just freed, below and above the
 * mmap threshold, with glibc's default (growing) threshold and with it pinned. */
#include "lab/lab.h"

#include <errno.h>
#include <stddef.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THRESHOLD (128 * 1024) /* glibc's starting M_MMAP_THRESHOLD */

/* 64 B: a small object; 40,000 B: the stack-vs-heap array; 256 KiB and 1 MiB: above the
 * threshold. */
static const size_t sizes[] = {64, 40000, 256 * 1024, 1024 * 1024};

struct reuse_ctx {
    enum mw__lab_malloc_mode mode;
    unsigned rounds;
};

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return (x > y) - (x < y);
}

/* Runs in a child (fresh malloc state): every size, in order, `rounds` times malloc, touch each
 * page, free. */
static int reuse_child(void *arg, void *result)
{
    const struct reuse_ctx *ctx = arg;
    mw__lab_reuse_row_t *rows = result;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t *addr = malloc(ctx->rounds * sizeof *addr);

    if (!addr)
        return -ENOMEM;
    if (ctx->mode == MW__MODE_FIXED && mallopt(M_MMAP_THRESHOLD, THRESHOLD) != 1) {
        free(addr);
        return -EINVAL;
    }
    for (size_t s = 0; s < MW__ARRAY_LEN(sizes); s++) {
        mw__lab_reuse_row_t *row = &rows[s];
        size_t base = mw__lab_mmapped_blocks();
        long faults = mw__lab_minflt();
        uintptr_t prev = 0;

        memset(row, 0, sizeof *row);
        row->size = sizes[s];
        row->mode = ctx->mode;
        row->rounds = ctx->rounds;
        for (unsigned i = 0; i < ctx->rounds; i++) {
            volatile char *p = malloc(sizes[s]);
            if (!p) {
                free(addr);
                return -ENOMEM;
            }
            if (mw__lab_mmapped_blocks() > base)
                row->mmapped++;
            for (size_t off = 0; off < sizes[s]; off += page)
                p[off] = 1;
            addr[i] = (uintptr_t)p;
            row->same_as_previous += addr[i] == prev;
            prev = addr[i];
            free((void *)p);
        }
        row->faults_per_round = (double)(mw__lab_minflt() - faults) / ctx->rounds;
        qsort(addr, ctx->rounds, sizeof *addr, cmp_ptr);
        for (unsigned i = 0; i < ctx->rounds; i++)
            row->distinct += i == 0 || addr[i] != addr[i - 1];
    }
    free(addr);
    return 0;
}

static MW__LAB_CHILD(reuse_child_desc, "reuse", reuse_child, sizeof(struct reuse_ctx),
                     MW__ARRAY_LEN(sizes) * sizeof(mw__lab_reuse_row_t));
int mw__lab_reuse(const mw__lab_opts_t *opts, mw__lab_reuse_t *out)
{
    mw__lab_reuse_t r;
    mw__lab_reuse_row_t rows[MW__ARRAY_LEN(sizes)];
    int err;

    memset(&r, 0, sizeof r);
    r.threshold = THRESHOLD;
    r.page = (size_t)sysconf(_SC_PAGESIZE);
    r.rounds = opts && opts->quick ? 200 : 1000;
    /* The cost is the pinned mode's: it faults in every page of each block above the threshold
     * every round. Fewer rounds fit a budget (50 at least). */
    double per_round = 4000;
    for (size_t s = 0; opts && s < MW__ARRAY_LEN(sizes); s++)
        if (sizes[s] > THRESHOLD)
            per_round += (double)(sizes[s] / r.page) * (opts->fault_ns + opts->free_ns);
    if (opts && opts->budget_ns > 0 && opts->budget_ns < r.rounds * per_round) {
        unsigned fit = (unsigned)(opts->budget_ns / per_round), want = r.rounds;
        r.rounds = fit > 50 ? fit : 50;
        mw__lab_cut(&r.budget, "%u rounds instead of %u", r.rounds, want);
    }
    r.budget.budget_ns = opts ? opts->budget_ns : 0;
    r.budget.estimate_ns = r.rounds * per_round;
    for (int m = 0; m < MW__MODES; m++) {
        struct reuse_ctx ctx = {(enum mw__lab_malloc_mode)m, r.rounds};
        if ((err = mw__lab_in_child(&reuse_child_desc, &ctx, rows)) < 0)
            return err;
        for (size_t s = 0; s < MW__ARRAY_LEN(sizes); s++)
            r.rows[r.nrows++] = rows[s];
    }

    /* Judge the lessons on the rows: small sizes reused; big ones pinned: mmapped each round;
     * big ones by default: mmapped only at first. */
    int small = 1, pinned = 1, grew = 1;
    for (size_t i = 0; i < r.nrows; i++) {
        const mw__lab_reuse_row_t *x = &r.rows[i];
        if (x->size < THRESHOLD)
            small &= x->distinct <= 2 && x->same_as_previous >= x->rounds - 2;
        else if (x->mode == MW__MODE_FIXED)
            pinned &= x->mmapped == x->rounds;
        else
            grew &= x->mmapped >= 1 && x->mmapped <= 2;
    }
    r.small_reused = small ? MW__LAB_HOLDS : MW__LAB_CONTRADICTED;
    r.big_mmapped = pinned ? MW__LAB_HOLDS : MW__LAB_CONTRADICTED;
    r.threshold_grew = grew ? MW__LAB_HOLDS : MW__LAB_CONTRADICTED;
    *out = r;
    return 0;
}

/* ---- presentation -------------------------------------------------------------------------- */

static const char *mode_word(enum mw__lab_malloc_mode m)
{
    return m == MW__MODE_FIXED ? "pinned" : "default";
}

static int reuse_run(const mw__lab_opts_t *opts, void *result)
{
    return mw__lab_reuse(opts, result);
}

static void reuse_table(mw__sb_t *sb, const void *result)
{
    const mw__lab_reuse_t *r = result;
    char b[32];

    mw__sb_printf(sb, "%-10s %-9s %7s %9s %13s %8s %13s\n", "size", "threshold", "rounds",
                  "distinct", "same as last", "mmapped", "faults/round");
    for (size_t i = 0; i < r->nrows; i++) {
        const mw__lab_reuse_row_t *x = &r->rows[i];
        mw__sb_printf(sb, "%-10s %-9s %7u %9u %13u %8u %13.1f\n",
                      mw__format_bytes_as(x->size, MW__BYTES_EXACT, b, sizeof b),
                      mode_word(x->mode), x->rounds, x->distinct, x->same_as_previous, x->mmapped,
                      x->faults_per_round);
    }
}

static const mw__lab_reuse_row_t *find_row(const mw__lab_reuse_t *r, size_t size,
                                           enum mw__lab_malloc_mode mode)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].size == size && r->rows[i].mode == mode)
            return &r->rows[i];
    return NULL;
}

static void reuse_conclude(mw__sb_t *sb, const void *result)
{
    const mw__lab_reuse_t *r = result;
    const mw__lab_reuse_row_t *small = find_row(r, 40000, MW__MODE_DEFAULT);
    const mw__lab_reuse_row_t *big_def = find_row(r, 1024 * 1024, MW__MODE_DEFAULT);
    const mw__lab_reuse_row_t *big_fix = find_row(r, 1024 * 1024, MW__MODE_FIXED);
    size_t pages = 1024 * 1024 / r->page;

    if (small)
        mw__sb_printf(sb,
                      "- Below the %zu KiB mmap threshold, malloc handed back the block just "
                      "freed in %u of %u rounds (%u distinct address%s for 40,000 B)%s\n",
                      r->threshold / 1024, small->same_as_previous, small->rounds, small->distinct,
                      small->distinct == 1 ? "" : "es",
                      r->small_reused == MW__LAB_HOLDS
                          ? ": a freed block is the first candidate for the next request of its "
                            "size."
                          : "; at some small size the freed block was not handed back.");
    if (big_fix)
        mw__sb_printf(sb,
                      "- With the threshold pinned, 1 MiB was mmapped in %u of %u rounds and "
                      "cost %.1f page faults a round (%zu pages), at %u distinct address%s: %s\n",
                      big_fix->mmapped, big_fix->rounds, big_fix->faults_per_round, pages,
                      big_fix->distinct, big_fix->distinct == 1 ? "" : "es",
                      big_fix->distinct * 4 <= big_fix->rounds
                          ? "the kernel mapped the range it had just unmapped, but as fresh, "
                            "zeroed pages: the same address is not the same memory."
                          : "a fresh mapping, at a new address, each time.");
    if (big_def)
        mw__sb_printf(sb,
                      "- With glibc's defaults, 1 MiB was mmapped in %u of %u rounds and cost "
                      "%.1f faults a round: %s\n",
                      big_def->mmapped, big_def->rounds, big_def->faults_per_round,
                      r->threshold_grew == MW__LAB_HOLDS
                          ? "freeing the first mapped block raised the threshold above its size, "
                            "so later rounds reused heap memory (glibc's dynamic threshold)."
                          : "the threshold did not grow the way glibc documents it on this run.");
}

static void reuse_csv(mw__sb_t *sb, const void *result)
{
    const mw__lab_reuse_t *r = result;
    for (size_t i = 0; i < r->nrows; i++) {
        const mw__lab_reuse_row_t *x = &r->rows[i];
        mw__lab_counts_t c = {x->rounds, x->distinct, x->same_as_previous, x->mmapped,
                              x->faults_per_round};
        mw__lab_csv_row(sb, "reuse", mode_word(x->mode), x->size, "round", NULL, c, NAN);
    }
}

static void reuse_json(mw__json_t *j, const char *key, const void *result)
{
    const mw__lab_reuse_t *r = result;
    static const char *const keys[] = {"small_reused", "big_mmapped", "threshold_grew"};
    const enum mw__lab_verdict v[] = {r->small_reused, r->big_mmapped, r->threshold_grew};

    mw__json_object(j, key);
    mw__json_uint(j, "threshold", r->threshold);
    mw__json_uint(j, "page", r->page);
    mw__json_uint(j, "rounds", r->rounds);
    mw__json_array(j, "rows");
    for (size_t i = 0; i < r->nrows; i++) {
        const mw__lab_reuse_row_t *x = &r->rows[i];
        mw__json_object(j, NULL);
        mw__json_uint(j, "size", x->size);
        mw__json_str(j, "threshold", mode_word(x->mode));
        mw__json_uint(j, "rounds", x->rounds);
        mw__json_uint(j, "distinct", x->distinct);
        mw__json_uint(j, "same_as_previous", x->same_as_previous);
        mw__json_uint(j, "mmapped", x->mmapped);
        mw__json_num(j, "faults_per_round", x->faults_per_round);
        mw__json_end(j);
    }
    mw__json_end(j);
    mw__lab_json_verdicts(j, MW__ARRAY_LEN(keys), keys, v);
    mw__lab_budget_json(j, &r->budget);
    mw__json_end(j);
}

static size_t reuse_charts(const void *result, mw__lab_chart_t *out)
{
    const mw__lab_reuse_t *r = result;
    mw__lab_chart_t *c = &out[0];
    size_t n = 0;
    char b[32];

    for (size_t i = 0; i < r->nrows && r->rows[i].mode == MW__MODE_DEFAULT; i++) {
        snprintf(c->category_text[n], sizeof c->category_text[n], "%s",
                 mw__format_bytes_as(r->rows[i].size, MW__BYTES_EXACT, b, sizeof b));
        c->categories[n] = c->category_text[n];
        for (int m = 0; m < MW__MODES; m++) {
            const mw__lab_reuse_row_t *x = find_row(r, r->rows[i].size, m);
            c->points[2 * m][n] = (mw_bench_point_t){n, x ? x->distinct : NAN, NAN, NAN};
            c->points[2 * m + 1][n] = (mw_bench_point_t){n, x ? x->mmapped : NAN, NAN, NAN};
        }
        n++;
    }
    c->series[0] = (mw_bench_series_t){"distinct addresses (default)", c->points[0], n};
    c->series[1] = (mw_bench_series_t){"rounds mmapped (default)", c->points[1], n};
    c->series[2] = (mw_bench_series_t){"distinct addresses (pinned)", c->points[2], n};
    c->series[3] = (mw_bench_series_t){"rounds mmapped (pinned)", c->points[3], n};
    snprintf(c->title, sizeof c->title, "reuse: %u rounds of malloc, touch, free per size",
             r->rounds);
    snprintf(c->note, sizeof c->note,
             "pinned: M_MMAP_THRESHOLD fixed at %zu KiB; default: glibc raises it when a mapped "
             "block is freed. Counts on a linear scale, each written at its bar: a count of %u "
             "is every round.",
             r->threshold / 1024, r->rounds);
    c->chart = (mw_bench_chart_t){.title = c->title,
                                  .y_label = "count",
                                  .kind = MW_BENCH_CHART_BARS,
                                  .flags = 0,
                                  .series = c->series,
                                  .nseries = 4,
                                  .categories = c->categories,
                                  .ncategories = n,
                                  .note = c->note};
    return 1;
}

const mw__lab_exp_t mw__lab_reuse_desc = {
    .name = "reuse",
    .summary = "whether malloc hands back the block just freed, below and above the mmap "
               "threshold",
    .measures = "For 64 B, 40,000 B, 256 KiB and 1 MiB: rounds of malloc, touch every page, free, "
                "counting the distinct addresses handed back, the rounds that got the block freed "
                "just before, the rounds glibc served with mmap, and page faults per round. Run "
                "twice, each in a fresh process: with glibc's defaults, and with the mmap "
                "threshold pinned at 128 KiB (mallopt).",
    .result_size = sizeof(mw__lab_reuse_t),
    .budget_offset = offsetof(mw__lab_reuse_t, budget),
    .weight = 1.5,
    .run = reuse_run,
    .table = reuse_table,
    .conclude = reuse_conclude,
    .csv = reuse_csv,
    .json = reuse_json,
    .charts = reuse_charts,
};
