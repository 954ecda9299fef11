/* The stack-vs-heap experiment: a 10,000-int array filled on the stack, on the heap with free,
 * and on the heap without free, each fill kept alive by a barrier. */
#include "lab/lab.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct svh_ctx {
    unsigned seed; /* changes every fill, so no fill can be computed once for all */
    int **kept;    /* the leaking case's blocks, freed after the sample */
    uint64_t nkept;
    int failed; /* malloc returned NULL */
};

/* One fill of the array with values derived from sum. The arithmetic is unsigned, so nothing
 * overflows (the classic version computed `sum = (sum * i) ^ sum + aux` in a signed int it had
 * not even initialised). The barrier keeps the stores: nothing else reads them. */
static inline void fill(int *array, unsigned sum)
{
    for (unsigned j = 0; j < MW__SVH_INTS; j++)
        array[j] = (int)((sum + j) & 0x7fffffffu);
    mw_bench_keep(array);
}

static void fill_stack(uint64_t iters, void *arg)
{
    struct svh_ctx *c = arg;
    int array[MW__SVH_INTS];
    unsigned sum = c->seed;

    for (uint64_t i = 0; i < iters; i++) {
        sum = sum * 31u + 7u;
        fill(array, sum);
    }
    c->seed = sum;
}

/* One sample of heap fills, each block freed after its fill or kept (the seed's leak, undone
 * after the sample). keep is a constant at each call: the compiler makes two plain loops. */
static inline __attribute__((always_inline)) void fill_heap(uint64_t iters, struct svh_ctx *c,
                                                            bool keep)
{
    unsigned sum = c->seed;

    for (uint64_t i = 0; i < iters; i++) {
        int *array = malloc(MW__SVH_INTS * sizeof *array);
        if (!array) {
            c->failed = 1;
            return;
        }
        sum = sum * 31u + 7u;
        fill(array, sum);
        if (keep)
            c->kept[c->nkept++] = array;
        else
            free(array);
    }
    c->seed = sum;
}

static void fill_heap_free(uint64_t iters, void *arg)
{
    fill_heap(iters, arg, false);
}

static void fill_heap_leak(uint64_t iters, void *arg)
{
    fill_heap(iters, arg, true);
}

static int leak_setup(uint64_t iters, void *arg)
{
    struct svh_ctx *c = arg;

    c->kept = malloc(iters * sizeof *c->kept);
    c->nkept = 0;
    return c->kept ? 0 : -ENOMEM;
}

static void leak_teardown(uint64_t iters, void *arg)
{
    struct svh_ctx *c = arg;

    (void)iters;
    for (uint64_t i = 0; i < c->nkept; i++)
        free(c->kept[i]);
    free(c->kept);
    c->kept = NULL;
    c->nkept = 0;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return (x > y) - (x < y);
}

static uint64_t count_distinct(uintptr_t *v, size_t n)
{
    uint64_t d = 0;

    qsort(v, n, sizeof *v, cmp_ptr);
    for (size_t i = 0; i < n; i++)
        d += i == 0 || v[i] != v[i - 1];
    return d;
}

/* Records where the stack array of one fill lives (in its own frame, like fill_stack's). */
__attribute__((noinline)) static void stack_array_address(unsigned seed, uintptr_t *where)
{
    int array[MW__SVH_INTS];

    fill(array, seed);
    *where = (uintptr_t)(void *)array;
}

/* One untimed run of `fills` fills per case, recording the array's address each time. */
static int count_addresses(unsigned fills, uint64_t distinct[MW__SVH_CASES])
{
    uintptr_t *addr = malloc(fills * sizeof *addr);
    int **kept = malloc(fills * sizeof *kept);
    int err = 0;

    if (!addr || !kept) {
        err = -ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < fills; i++)
        stack_array_address(i, &addr[i]);
    distinct[MW__SVH_STACK] = count_distinct(addr, fills);
    for (unsigned i = 0; i < fills; i++) {
        int *a = malloc(MW__SVH_INTS * sizeof *a);
        if (!a) {
            err = -ENOMEM;
            goto out;
        }
        mw_bench_keep(a); /* an unused malloc/free pair may be deleted */
        addr[i] = (uintptr_t)a;
        free(a);
    }
    distinct[MW__SVH_HEAP_FREE] = count_distinct(addr, fills);
    unsigned n = 0;
    for (; n < fills; n++) {
        kept[n] = malloc(MW__SVH_INTS * sizeof *kept[n]);
        if (!kept[n]) {
            err = -ENOMEM;
            break;
        }
        mw_bench_keep(kept[n]);
        addr[n] = (uintptr_t)kept[n];
    }
    if (!err)
        distinct[MW__SVH_HEAP_LEAK] = count_distinct(addr, fills);
    while (n > 0)
        free(kept[--n]);
out:
    free(addr);
    free(kept);
    return err;
}

/* Fits the run to the budget: fewer samples first (down to 5), then fewer fills per sample.
 * A sample costs three fills of 40 KB (about 2 us each) plus the fresh pages the fill without
 * free faults in, and gives back after the sample. */
static void plan(const mw__lab_opts_t *opts, mw__lab_svh_t *r, unsigned *samples)
{
    double page = (double)sysconf(_SC_PAGESIZE);
    double per_fill =
        3 * 2000.0 + ceil(MW__SVH_INTS * sizeof(int) / page) * (opts->fault_ns + opts->free_ns);
    unsigned want = *samples, fills = r->fills;

    /* + 2: the warm-up sample and the untimed run that counts addresses */
    if (opts->budget_ns > 0 && opts->fault_ns > 0) {
        double fit = opts->budget_ns / (fills * per_fill) - 2;
        if (fit < want) {
            *samples = fit > 5 ? (unsigned)fit : 5;
            mw__lab_cut(&r->budget, "%u samples instead of %u", *samples, want);
        }
        fit = opts->budget_ns / ((*samples + 2) * per_fill);
        if (fit < fills) {
            r->fills = fit > 100 ? (unsigned)fit : 100;
            mw__lab_cut(&r->budget, "%u fills per sample instead of %u", r->fills, fills);
        }
    }
    r->budget.budget_ns = opts->budget_ns;
    r->budget.estimate_ns = (*samples + 2) * r->fills * per_fill;
}

/* Runs in a freshly executed process: what malloc hands back depends on its state. */
static int svh_child(void *arg, void *result)
{
    const mw__lab_opts_t *opts = arg;
    static const char *const names[MW__SVH_CASES] = {"stack", "heap+free", "heap, no free"};
    static const mw_bench_fn_t fns[MW__SVH_CASES] = {fill_stack, fill_heap_free, fill_heap_leak};
    mw__lab_svh_t r;
    struct svh_ctx ctx = {.seed = 12345};
    int err;

    memset(&r, 0, sizeof r);
    r.ints = MW__SVH_INTS;
    r.fills = opts->quick ? 200 : 1000;
    unsigned samples = opts->quick ? 7 : 31;
    plan(opts, &r, &samples);
    mw_bench_spec_t specs[MW__SVH_CASES];
    for (int k = 0; k < MW__SVH_CASES; k++)
        specs[k] = (mw_bench_spec_t){
            .name = names[k],
            .fn = fns[k],
            .arg = &ctx,
            .setup = k == MW__SVH_HEAP_LEAK ? leak_setup : NULL,
            .teardown = k == MW__SVH_HEAP_LEAK ? leak_teardown : NULL,
            .iters = r.fills, /* one sample = the classic run of fills */
            .samples = samples,
        };
    /* Interleaved samples: the three cases share whatever the machine does meanwhile. */
    if ((err = mw_bench_run_group(specs, MW__SVH_CASES, r.run)) < 0)
        return err;
    if (ctx.failed)
        return -ENOMEM;
    for (int k = 0; k < MW__SVH_CASES; k++)
        r.faults_per_fill[k] = r.run[k].minflt_per_op + r.run[k].majflt_per_op;
    if ((err = count_addresses(r.fills, r.distinct)) < 0)
        return err;

    double stack = r.run[MW__SVH_STACK].wall_ns.median;
    double heap = r.run[MW__SVH_HEAP_FREE].wall_ns.median;
    double leak = r.run[MW__SVH_HEAP_LEAK].wall_ns.median;
    r.heap_free_vs_stack = heap / stack;
    r.leak_vs_heap_free = leak / heap;
    /* Within 10% either way is too close to call on a shared machine. */
    r.stack_faster = r.heap_free_vs_stack > 1.10   ? MW__LAB_HOLDS
                     : r.heap_free_vs_stack < 0.91 ? MW__LAB_CONTRADICTED
                                                   : MW__LAB_UNCLEAR;
    r.reuse_explains = r.distinct[MW__SVH_HEAP_FREE] <= 2 && r.heap_free_vs_stack < 1.25
                           ? MW__LAB_HOLDS
                           : MW__LAB_CONTRADICTED;
    r.leak_slower = r.leak_vs_heap_free > 1.2    ? MW__LAB_HOLDS
                    : r.leak_vs_heap_free < 1.05 ? MW__LAB_CONTRADICTED
                                                 : MW__LAB_UNCLEAR;
    r.leak_faults =
        r.faults_per_fill[MW__SVH_HEAP_LEAK] >= 1 && r.faults_per_fill[MW__SVH_HEAP_FREE] < 0.1
            ? MW__LAB_HOLDS
            : MW__LAB_CONTRADICTED;
    memcpy(result, &r, sizeof r);
    return 0;
}

static MW__LAB_CHILD(svh_child_desc, "stack-vs-heap", svh_child, sizeof(mw__lab_opts_t),
                     sizeof(mw__lab_svh_t));
int mw__lab_stack_vs_heap(const mw__lab_opts_t *opts, mw__lab_svh_t *out)
{
    const mw__lab_opts_t none = {0};

    return mw__lab_in_child(&svh_child_desc, opts ? opts : &none, out);
}

/* ---- presentation -------------------------------------------------------------------------- */

static int svh_run(const mw__lab_opts_t *opts, void *result)
{
    return mw__lab_stack_vs_heap(opts, result);
}

static void svh_table(mw__sb_t *sb, const void *result)
{
    const mw__lab_svh_t *r = result;
    char b[5][32];

    mw__sb_printf(sb, "%-14s %10s %10s %10s %10s %12s %9s %9s\n", "case", "per fill", "min", "max",
                  "MAD", "faults/fill", "distinct", "vs stack");
    for (int k = 0; k < MW__SVH_CASES; k++) {
        const mw_bench_result_t *x = &r->run[k];
        mw__sb_printf(sb, "%-14s %10s %10s %10s %10s %12.2f %9llu %8.2fx\n", x->name,
                      mw__bench_format_ns(x->wall_ns.median, b[0], sizeof b[0]),
                      mw__bench_format_ns(x->wall_ns.min, b[1], sizeof b[1]),
                      mw__bench_format_ns(x->wall_ns.max, b[2], sizeof b[2]),
                      mw__bench_format_ns(x->wall_ns.mad, b[3], sizeof b[3]), r->faults_per_fill[k],
                      (unsigned long long)r->distinct[k],
                      x->wall_ns.median / r->run[MW__SVH_STACK].wall_ns.median);
    }
}

static void svh_conclude(mw__sb_t *sb, const void *result)
{
    const mw__lab_svh_t *r = result;
    char b[3][32];
    const mw_bench_result_t *st = &r->run[MW__SVH_STACK], *hf = &r->run[MW__SVH_HEAP_FREE],
                            *hl = &r->run[MW__SVH_HEAP_LEAK];

    mw__sb_printf(sb,
                  "- Heap with free took %.2fx the stack's time per fill (%s against %s). malloc "
                  "handed back %llu distinct address%s in %u rounds",
                  r->heap_free_vs_stack, mw__bench_format_ns(hf->wall_ns.median, b[0], sizeof b[0]),
                  mw__bench_format_ns(st->wall_ns.median, b[1], sizeof b[1]),
                  (unsigned long long)r->distinct[MW__SVH_HEAP_FREE],
                  r->distinct[MW__SVH_HEAP_FREE] == 1 ? "" : "es", r->fills);
    if (r->distinct[MW__SVH_HEAP_FREE] <= 2)
        mw__sb_printf(sb,
                      ": the block just freed, every time, so a fill paid one malloc/free "
                      "pair and %.2f page faults.\n",
                      r->faults_per_fill[MW__SVH_HEAP_FREE]);
    else
        mw__sb_puts(sb, ": the freed block was not simply handed back.\n");
    switch (r->stack_faster) {
    case MW__LAB_HOLDS:
        mw__sb_printf(sb, "  'The stack is faster than the heap' holds here, by %.0f%%.\n",
                      (r->heap_free_vs_stack - 1) * 100);
        break;
    case MW__LAB_CONTRADICTED:
        mw__sb_printf(sb,
                      "  'The stack is faster than the heap' is contradicted: the heap was "
                      "%.0f%% faster.\n",
                      (1 - r->heap_free_vs_stack) * 100);
        break;
    default:
        mw__sb_puts(sb, "  'The stack is faster than the heap' is not borne out: the two are "
                        "within 10%, too close to call; filling 40 KB costs far more than one "
                        "malloc/free of a reused block.\n");
    }
    mw__sb_printf(sb,
                  "- Without free a fill took %.2fx the time of heap with free (%s): %llu "
                  "distinct addresses in %u rounds, fresh memory each time, %.2f page faults per "
                  "fill against %.2f.\n",
                  r->leak_vs_heap_free, mw__bench_format_ns(hl->wall_ns.median, b[2], sizeof b[2]),
                  (unsigned long long)r->distinct[MW__SVH_HEAP_LEAK], r->fills,
                  r->faults_per_fill[MW__SVH_HEAP_LEAK], r->faults_per_fill[MW__SVH_HEAP_FREE]);
    if (r->leak_slower == MW__LAB_HOLDS && r->leak_faults == MW__LAB_HOLDS)
        mw__sb_puts(sb, "  Removing free made the code slower, not faster: fresh pages must be "
                        "faulted in and zeroed by the kernel.\n");
    else if (r->leak_slower == MW__LAB_HOLDS)
        mw__sb_puts(sb, "  Removing free made the code slower, though the page-fault counts do "
                        "not explain it on this run.\n");
    else if (r->leak_slower == MW__LAB_CONTRADICTED)
        mw__sb_puts(sb, "  Contrary to the expected lesson, removing free did not make it "
                        "slower on this run.\n");
    else
        mw__sb_puts(sb, "  The slowdown without free is too small to call on this run.\n");
}

static void svh_csv(mw__sb_t *sb, const void *result)
{
    const mw__lab_svh_t *r = result;

    for (int k = 0; k < MW__SVH_CASES; k++) {
        mw__lab_counts_t counts = {r->fills, (long long)r->distinct[k], -1, -1, NAN};
        mw__lab_csv_row(sb, "stack-vs-heap", r->run[k].name, r->ints * sizeof(int), "fill",
                        &r->run[k], counts,
                        r->run[k].wall_ns.median / r->run[MW__SVH_STACK].wall_ns.median);
    }
}

static void svh_json(mw__json_t *j, const char *key, const void *result)
{
    const mw__lab_svh_t *r = result;
    static const char *const keys[] = {"stack_faster", "reuse_explains", "leak_slower",
                                       "leak_faults"};
    const enum mw__lab_verdict v[] = {r->stack_faster, r->reuse_explains, r->leak_slower,
                                      r->leak_faults};

    mw__json_object(j, key);
    mw__json_uint(j, "ints", r->ints);
    mw__json_uint(j, "fills", r->fills);
    mw__json_array(j, "cases");
    for (int k = 0; k < MW__SVH_CASES; k++) {
        mw__json_object(j, NULL);
        mw__json_uint(j, "distinct_addresses", r->distinct[k]);
        mw__json_num(j, "faults_per_fill", r->faults_per_fill[k]);
        mw__bench_result_json(j, "result", &r->run[k],
                              r->run[k].wall_ns.median / r->run[MW__SVH_STACK].wall_ns.median);
        mw__json_end(j);
    }
    mw__json_end(j);
    mw__json_num(j, "heap_free_vs_stack", r->heap_free_vs_stack);
    mw__json_num(j, "leak_vs_heap_free", r->leak_vs_heap_free);
    mw__lab_json_verdicts(j, MW__ARRAY_LEN(keys), keys, v);
    mw__lab_budget_json(j, &r->budget);
    mw__json_end(j);
}

static size_t svh_charts(const void *result, mw__lab_chart_t *out)
{
    const mw__lab_svh_t *r = result;
    mw__lab_chart_t *c = &out[0];

    for (int k = 0; k < MW__SVH_CASES; k++) {
        const mw_bench_result_t *x = &r->run[k];
        c->points[0][k] = (mw_bench_point_t){k, x->wall_ns.median, x->wall_ns.min, x->wall_ns.max};
        snprintf(c->category_text[k], sizeof c->category_text[k], "%.47s", x->name);
        c->categories[k] = c->category_text[k];
    }
    c->series[0] = (mw_bench_series_t){"median per fill (min..max)", c->points[0], MW__SVH_CASES};
    snprintf(c->title, sizeof c->title, "stack-vs-heap: fill a %u-int array (%u fills a sample)",
             r->ints, r->fills);
    snprintf(c->note, sizeof c->note,
             "page faults per fill: stack %.2f, heap+free %.2f, heap without free %.2f; distinct "
             "addresses: %llu, %llu, %llu",
             r->faults_per_fill[0], r->faults_per_fill[1], r->faults_per_fill[2],
             (unsigned long long)r->distinct[0], (unsigned long long)r->distinct[1],
             (unsigned long long)r->distinct[2]);
    c->chart = (mw_bench_chart_t){.title = c->title,
                                  .y_label = "time per fill (log scale)",
                                  .kind = MW_BENCH_CHART_BARS,
                                  /* ~100x apart: linear bars would hide two of the three */
                                  .flags = MW_BENCH_CHART_Y_NS | MW_BENCH_CHART_LOG_Y,
                                  .series = c->series,
                                  .nseries = 1,
                                  .categories = c->categories,
                                  .ncategories = MW__SVH_CASES,
                                  .note = c->note};
    return 1;
}

const mw__lab_exp_t mw__lab_stack_vs_heap_desc = {
    .name = "stack-vs-heap",
    .summary = "a 10,000-int array filled on the stack, on the heap with and without free",
    .measures = "Fills a 10,000-int array (40 KB) again and again: on the stack; on the heap with "
                "malloc and free around each fill; on the heap without free (the blocks are "
                "released after each sample, outside the timing). One sample is the classic run "
                "of 1,000 fills (200 with --quick), the three cases taking turns; times are per "
                "fill, with page faults per fill and the distinct addresses the array had over "
                "one run.",
    .result_size = sizeof(mw__lab_svh_t),
    .budget_offset = offsetof(mw__lab_svh_t, budget),
    .weight = 2,
    .run = svh_run,
    .table = svh_table,
    .conclude = svh_conclude,
    .csv = svh_csv,
    .json = svh_json,
    .charts = svh_charts,
};
