/* Tour section "stack-heap": short runs of the stack-vs-heap, reuse and sizes experiments of
 * `memwalk bench`, each in a freshly executed process and within a small time budget, with the
 * seed's lessons checked against this run's numbers. */
#include "tour/tour.h"

#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"

/* The time each experiment may take here: the tour is a walk, not a benchmark. */
#define SVH_BUDGET_NS   1.0e9
#define REUSE_BUDGET_NS 0.6e9
#define SIZES_BUDGET_NS 1.5e9

/* Prints a table an experiment wrote (its numbers), indented. */
static void show_lines(struct tour *t, const char *text)
{
    const char *p = text;

    while (p && *p) {
        size_t n = strcspn(p, "\n");
        tour_line(t, "  %.*s", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

/* Records the experiment's JSON under its name, and draws its charts on the page. */
static void record(struct tour *t, const mw__lab_exp_t *desc, const void *result, size_t max_charts)
{
    desc->json(tour_json(t), desc->name, result);
    if (!tour_html(t))
        return;
    mw__lab_chart_t *charts = calloc(MW__LAB_MAX_CHARTS, sizeof *charts);
    if (!charts)
        return;
    size_t n = desc->charts(result, charts);
    for (size_t i = 0; i < n && i < max_charts; i++) {
        char *svg = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&svg, &len);
        if (!f)
            break;
        int err = mw_bench_chart_write_svg(f, &charts[i].chart, 1);
        if (fclose(f) == 0 && err == 0)
            tour_figure(t, "chart", charts[i].title, svg);
        free(svg);
    }
    free(charts);
}

static void cut_note(struct tour *t, const mw__lab_budget_t *b)
{
    if (b->cut[0])
        tour_note(t, "Cut to fit the tour's %.1f s for it: %s.", b->budget_ns / 1e9, b->cut);
}

/* ---- stack vs heap ------------------------------------------------------------------------- */

static void svh_table(struct tour *t, const mw__lab_svh_t *r)
{
    char b[32];

    tour_line(t, "  %-14s %10s %12s %9s %9s", "case", "per fill", "faults/fill", "distinct",
              "vs stack");
    for (int k = 0; k < MW__SVH_CASES; k++) {
        const mw_bench_result_t *x = &r->run[k];
        tour_line(t, "  %-14s %10s %12.2f %9llu %8.2fx", x->name,
                  mw__bench_format_ns(x->wall_ns.median, b, sizeof b), r->faults_per_fill[k],
                  (unsigned long long)r->distinct[k],
                  x->wall_ns.median / r->run[MW__SVH_STACK].wall_ns.median);
    }
}

static void stack_vs_heap(struct tour *t, const mw__lab_svh_t *r)
{
    const mw_bench_result_t *stack = &r->run[MW__SVH_STACK];
    const mw_bench_result_t *heap = &r->run[MW__SVH_HEAP_FREE];

    /* Reuse is a count, exact whatever the load; the time ratio is reported beside it. */
    unsigned long long distinct = (unsigned long long)r->distinct[MW__SVH_HEAP_FREE];
    if (distinct <= 2)
        tour_conclude(t, true,
                      "With free, malloc handed back %llu distinct address%s over %u fills: the "
                      "block just freed, so the heap version paid one malloc/free pair a fill "
                      "and cost %.2fx the stack's time, not the price of fresh memory.",
                      distinct, distinct == 1 ? "" : "es", r->fills, r->heap_free_vs_stack);
    else
        tour_conclude(t, false,
                      "With free, malloc handed back %llu distinct addresses over %u fills: it did "
                      "not simply reuse the block just freed (heap/stack time %.2fx).",
                      distinct, r->fills, r->heap_free_vs_stack);
    if (r->stack_faster == MW__LAB_HOLDS)
        tour_note(t, "The stack was measurably faster here (%.0f ns against %.0f ns a fill).",
                  stack->wall_ns.median, heap->wall_ns.median);
    else
        tour_note(t,
                  "'The stack is faster' %s: %.0f ns on the stack against %.0f ns on the heap "
                  "a fill; filling 40 KB dominates one malloc/free pair.",
                  r->stack_faster == MW__LAB_CONTRADICTED ? "is contradicted"
                                                          : "is too close to call",
                  stack->wall_ns.median, heap->wall_ns.median);
    if (r->leak_slower == MW__LAB_HOLDS && r->leak_faults == MW__LAB_HOLDS)
        tour_conclude(
            t, true,
            "Removing free made it %.1fx slower, not faster: every fill got fresh memory "
            "(%llu distinct addresses) and paid %.1f page faults for it, where the reused "
            "block paid %.1f.",
            r->leak_vs_heap_free, (unsigned long long)r->distinct[MW__SVH_HEAP_LEAK],
            r->faults_per_fill[MW__SVH_HEAP_LEAK], r->faults_per_fill[MW__SVH_HEAP_FREE]);
    else
        tour_conclude(t, false,
                      "Without free a fill took %.2fx the time of heap with free, with %.1f page "
                      "faults against %.1f: the lesson 'no free is slower' did not show clearly.",
                      r->leak_vs_heap_free, r->faults_per_fill[MW__SVH_HEAP_LEAK],
                      r->faults_per_fill[MW__SVH_HEAP_FREE]);
}

/* ---- reuse --------------------------------------------------------------------------------- */

static const mw__lab_reuse_row_t *reuse_row(const mw__lab_reuse_t *r, size_t size, int mode)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].size == size && (int)r->rows[i].mode == mode)
            return &r->rows[i];
    return NULL;
}

static void reuse(struct tour *t, const mw__lab_reuse_t *r)
{
    const mw__lab_reuse_row_t *small = NULL, *big_pinned = NULL, *big_default = NULL;
    size_t i;

    for (i = 0; i < r->nrows; i++) {
        const mw__lab_reuse_row_t *row = &r->rows[i];
        if (row->mode == MW__MODE_DEFAULT && row->size < r->threshold &&
            (!small || row->size > small->size))
            small = row;
        if (row->mode == MW__MODE_FIXED && row->size > r->threshold &&
            (!big_pinned || row->size > big_pinned->size))
            big_pinned = row;
    }
    if (big_pinned)
        big_default = reuse_row(r, big_pinned->size, MW__MODE_DEFAULT);
    if (small && r->small_reused == MW__LAB_HOLDS)
        tour_conclude(t, true,
                      "Below the %zu KiB mmap threshold, free then malloc of the same size gave "
                      "back the same block in %u of %u rounds.",
                      r->threshold >> 10, small->same_as_previous, small->rounds);
    else if (small)
        tour_conclude(t, false,
                      "Below the mmap threshold only %u of %u rounds got the block just freed.",
                      small->same_as_previous, small->rounds);
    if (big_pinned && r->big_mmapped == MW__LAB_HOLDS)
        tour_conclude(
            t, true,
            "Above it (threshold pinned), each %zu KiB block was a new mapping: %.0f page "
            "faults a round, even when the address was the same.",
            big_pinned->size >> 10, big_pinned->faults_per_round);
    else if (big_pinned)
        tour_conclude(t, false,
                      "Above the pinned threshold, %u of %u rounds were mmapped (%.1f faults a "
                      "round).",
                      big_pinned->mmapped, big_pinned->rounds, big_pinned->faults_per_round);
    /* glibc's dynamic threshold, when the default mode's rows show it. */
    if (big_default && r->threshold_grew == MW__LAB_HOLDS)
        tour_conclude(t, true,
                      "With glibc's defaults the same %zu KiB block was mapped in only %u of %u "
                      "rounds (%.1f faults a round): freeing the first mapped block raised the "
                      "threshold above its size, and later rounds came from the heap. This "
                      "process started fresh; a long-running one may have raised its threshold "
                      "long ago.",
                      big_default->size >> 10, big_default->mmapped, big_default->rounds,
                      big_default->faults_per_round);
    else if (big_default)
        tour_conclude(t, false,
                      "With glibc's defaults the %zu KiB block was mapped in %u of %u rounds: "
                      "the dynamic threshold did not show as glibc documents it.",
                      big_default->size >> 10, big_default->mmapped, big_default->rounds);
}

/* ---- sizes --------------------------------------------------------------------------------- */

static void sizes_table(struct tour *t, const mw__lab_sizes_t *r)
{
    char b[3][32];

    tour_line(t, "  %-9s | %-24s | %-24s", "", "glibc default", "threshold pinned");
    tour_line(t, "  %-9s | %10s %13s | %10s %13s", "size", "per call", "faults/call", "per call",
              "faults/call");
    for (size_t i = 0; i < r->nrows; i++) {
        const mw__lab_sizes_row_t *x = &r->rows[i];
        const mw_bench_result_t *d = &x->run[MW__MODE_DEFAULT], *p = &x->run[MW__MODE_FIXED];
        tour_line(t, "  %-9s | %10s %13.1f | %10s %13.1f",
                  mw__format_bytes_as(x->size, MW__BYTES_EXACT, b[0], sizeof b[0]),
                  mw__bench_format_ns(d->wall_ns.median, b[1], sizeof b[1]),
                  d->minflt_per_op + d->majflt_per_op,
                  mw__bench_format_ns(p->wall_ns.median, b[2], sizeof b[2]),
                  p->minflt_per_op + p->majflt_per_op);
    }
}

static void sizes(struct tour *t, const mw__lab_sizes_t *r)
{
    char b[3][32];

    size_t below = 0;
    for (size_t i = 0; i < r->nrows && r->rows[i].size < r->first_mmapped[MW__MODE_FIXED]; i++)
        below = r->rows[i].size;
    if (r->step_at_threshold == MW__LAB_HOLDS && r->first_mmapped[MW__MODE_FIXED] && below)
        tour_conclude(t, true,
                      "Pinned, the calls faulted in every page at %s and above, and not at %s "
                      "and below: about %s per page fault here, zeroing included, so a mapped "
                      "block costs in proportion to the pages it touches.",
                      mw__format_bytes_as(r->first_mmapped[MW__MODE_FIXED], MW__BYTES_EXACT, b[0],
                                          sizeof b[0]),
                      mw__format_bytes_as(below, MW__BYTES_EXACT, b[2], sizeof b[2]),
                      mw__bench_format_ns(r->ns_per_fault, b[1], sizeof b[1]));
    else
        tour_conclude(t, false,
                      "Pinned, the fault counts did not step up cleanly at the threshold on this "
                      "run.");
    if (r->default_avoids == MW__LAB_HOLDS)
        tour_conclude(t, true,
                      "With glibc's defaults, repeated calls of one size up to %s reused heap "
                      "memory (1 MiB: %.0fx faster than pinned): the dynamic threshold at work.",
                      mw__format_bytes_as(r->last_heap_default, MW__BYTES_EXACT, b[2], sizeof b[2]),
                      r->pinned_vs_default_1m);
    else
        tour_conclude(t, false,
                      "With glibc's defaults, 1 MiB was not spared its faults on this run (%.1fx "
                      "pinned's speed).",
                      r->pinned_vs_default_1m);
}

/* A checker that interposes malloc changes what these experiments observe: valgrind and
 * memwalk's tracer both hold freed blocks back for a while. */
static const char *traced_by(void)
{
    const char *preload = getenv("LD_PRELOAD");

    if (mw_bench_under_valgrind())
        return "valgrind";
    if (preload && strstr(preload, "libmemwalk-leak"))
        return "memwalk leaks";
    return NULL;
}

static int run(struct tour *t)
{
    const char *tracer = traced_by();
    mw__lab_opts_t opts = {.quick = 1};
    mw__lab_svh_t svh;
    mw__lab_reuse_t ru;
    mw__lab_sizes_t *sz = calloc(1, sizeof *sz);
    char b[32];
    int r;

    if (!sz) {
        tour_skip(t, "out of memory");
        return -1;
    }
    opts.fault_ns = mw__lab_fault_ns(&opts.free_ns);
    tour_text(t,
              "Short runs of `memwalk bench stack-vs-heap`, `reuse` and `sizes`, each in a "
              "freshly started process, so that malloc starts from the state a program has. A "
              "fresh page costs %s to fault in here: the runs are sized to take a few seconds.",
              mw__bench_format_ns(opts.fault_ns, b, sizeof b));
    mw__json_num(tour_json(t), "fault_ns", opts.fault_ns);
    if (tracer)
        tour_note(t,
                  "This process runs under %s, whose allocator hooks hold freed blocks back "
                  "before reusing them: expect malloc's reuse to look different.",
                  tracer);
    mw__json_str(tour_json(t), "traced_by", tracer);

    tour_sub(t, "A 10,000-int array filled again and again: on the stack, on the heap");
    opts.budget_ns = SVH_BUDGET_NS;
    r = mw__lab_stack_vs_heap(&opts, &svh);
    if (r < 0) {
        tour_conclude(t, false, "The stack-vs-heap experiment failed to run (%s).", strerror(-r));
        free(sz);
        return -1;
    }
    svh_table(t, &svh);
    record(t, &mw__lab_stack_vs_heap_desc, &svh, 1);
    stack_vs_heap(t, &svh);
    cut_note(t, &svh.budget);

    tour_sub(t, "Does malloc hand back the block just freed?");
    opts.budget_ns = REUSE_BUDGET_NS;
    r = mw__lab_reuse(&opts, &ru);
    if (r < 0) {
        tour_conclude(t, false, "The reuse experiment failed to run (%s).", strerror(-r));
        free(sz);
        return -1;
    }
    {
        mw__sb_t sb = {0};
        mw__lab_reuse_desc.table(&sb, &ru);
        show_lines(t, sb.buf);
        mw__sb_free(&sb);
    }
    record(t, &mw__lab_reuse_desc, &ru, 0);
    reuse(t, &ru);
    cut_note(t, &ru.budget);

    tour_sub(t, "malloc, touch every page, free: from 16 B up, threshold default and pinned");
    opts.budget_ns = SIZES_BUDGET_NS;
    r = mw__lab_sizes(&opts, sz);
    if (r < 0) {
        tour_conclude(t, false, "The sizes experiment failed to run (%s).", strerror(-r));
        free(sz);
        return -1;
    }
    sizes_table(t, sz);
    record(t, &mw__lab_sizes_desc, sz, 2);
    sizes(t, sz);
    cut_note(t, &sz->budget);
    tour_background(t,
                    "glibc serves a request at or above its mmap threshold (128 KiB at start) "
                    "with a mapping of its own, and raises the threshold, up to 32 MiB, when such "
                    "a block is freed (mallopt(3)).");
    free(sz);
    return 0;
}

const struct tour_section mw_tour_stack_heap = {"stack-heap", "Stack vs heap", run};
