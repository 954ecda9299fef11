/* Tour section "stack-heap": a short run of the stack-vs-heap and reuse experiments of
 * `memwalk bench`, with the seed's lesson checked against this run's numbers. */
#include "tour/tour.h"

#include <stdlib.h>
#include <string.h>

#include "cli/experiments.h"

/* Prints the experiment's own table (its numbers), indented, and records its JSON. */
static void show_table(struct tour *t, const mw__exp_t *desc, const void *result)
{
    mw__sb_t sb = {0};
    char *line, *save = NULL;

    desc->table(&sb, result);
    if (sb.buf)
        for (line = strtok_r(sb.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            tour_line(t, "  %s", line);
    mw__sb_free(&sb);
    desc->json(&sb, result);
    tour_json_raw(t, desc->name, sb.buf);
    mw__sb_free(&sb);
}

static void stack_vs_heap(struct tour *t, const mw__exp_svh_t *r)
{
    const mw_bench_result_t *stack = &r->run[MW__SVH_STACK];
    const mw_bench_result_t *heap = &r->run[MW__SVH_HEAP_FREE];

    if (r->reuse_explains == MW__EXP_HOLDS)
        tour_conclude(
            t, true,
            "With free, malloc handed back %llu distinct address over %u fills: the block "
            "just freed, so the heap version cost %.2fx the stack's time, not the "
            "price of a fresh allocation.",
            (unsigned long long)r->distinct[MW__SVH_HEAP_FREE], r->fills, r->heap_free_vs_stack);
    else
        tour_conclude(t, false,
                      "With free, malloc handed back %llu distinct addresses over %u fills: it did "
                      "not simply reuse the block just freed (heap/stack time %.2fx).",
                      (unsigned long long)r->distinct[MW__SVH_HEAP_FREE], r->fills,
                      r->heap_free_vs_stack);
    if (r->stack_faster == MW__EXP_HOLDS)
        tour_note(t, "The stack was measurably faster here (%.0f ns against %.0f ns a fill).",
                  stack->wall_ns.median, heap->wall_ns.median);
    else
        tour_note(t,
                  "'The stack is faster' %s: %.0f ns on the stack against %.0f ns on the heap "
                  "a fill; filling 40 KB dominates one malloc/free pair.",
                  r->stack_faster == MW__EXP_CONTRADICTED ? "is contradicted"
                                                          : "is too close to call",
                  stack->wall_ns.median, heap->wall_ns.median);
    if (r->leak_slower == MW__EXP_HOLDS && r->leak_faults == MW__EXP_HOLDS)
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

static void reuse(struct tour *t, const mw__exp_reuse_t *r)
{
    const mw__exp_reuse_row_t *small = NULL, *big_pinned = NULL;
    size_t i;

    for (i = 0; i < r->nrows; i++) {
        const mw__exp_reuse_row_t *row = &r->rows[i];
        if (row->mode == MW__MODE_DEFAULT && row->size < r->threshold &&
            (!small || row->size > small->size))
            small = row;
        if (row->mode == MW__MODE_FIXED && row->size > r->threshold &&
            (!big_pinned || row->size > big_pinned->size))
            big_pinned = row;
    }
    if (small && r->small_reused == MW__EXP_HOLDS)
        tour_conclude(t, true,
                      "Below the %zu KiB mmap threshold, free then malloc of the same size gave "
                      "back the same block in %u of %u rounds.",
                      r->threshold >> 10, small->same_as_previous, small->rounds);
    else if (small)
        tour_conclude(t, false,
                      "Below the mmap threshold only %u of %u rounds got the block just freed.",
                      small->same_as_previous, small->rounds);
    if (big_pinned && r->big_mmapped == MW__EXP_HOLDS)
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

    const mw__exp_opts_t opts = {.quick = 1};
    mw__exp_svh_t svh;
    mw__exp_reuse_t ru;
    int r;

    tour_line(t, "A short run of `memwalk bench stack-vs-heap` and `memwalk bench reuse` (the full "
                 "runs take longer).");
    if (tracer)
        tour_note(t,
                  "This process runs under %s, whose allocator hooks hold freed blocks back "
                  "before reusing them: expect malloc's reuse to look different.",
                  tracer);
    tour_json_str(t, "traced_by", tracer);
    tour_sub(t, "A 10,000-int array filled again and again: on the stack, on the heap");
    r = mw__exp_stack_vs_heap(&opts, &svh);
    if (r < 0) {
        tour_conclude(t, false, "The stack-vs-heap experiment failed to run (%s).", strerror(-r));
        return -1;
    }
    show_table(t, &mw__exp_stack_vs_heap_desc, &svh);
    stack_vs_heap(t, &svh);

    tour_sub(t, "Does malloc hand back the block just freed?");
    r = mw__exp_reuse(&opts, &ru);
    if (r < 0) {
        tour_conclude(t, false, "The reuse experiment failed to run (%s).", strerror(-r));
        return -1;
    }
    show_table(t, &mw__exp_reuse_desc, &ru);
    reuse(t, &ru);
    return 0;
}

const struct tour_section mw_tour_stack_heap = {"stack-heap", "Stack vs heap", run};
