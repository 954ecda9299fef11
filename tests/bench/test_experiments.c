/* Tests for the experiments of `memwalk bench` (quick mode). What they assert are counts (page
 * faults, addresses, mapped blocks), exact whatever the load; the few time rankings compare
 * medians of the same run with a wide margin, never an absolute time. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/lab.h"

static const mw__lab_opts_t quick = {.quick = 1};

/* ---- stack-vs-heap ----------------------------------------------------------------------------
 */

Test(bench_exp, stack_vs_heap_counts)
{
    mw__lab_svh_t r;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    cr_assert_eq(mw__lab_stack_vs_heap(&quick, &r), 0);
    cr_assert_eq(r.ints, 10000);
    cr_assert_eq(r.distinct[MW__SVH_STACK], 1, "one frame, one address");
    cr_assert_leq(r.distinct[MW__SVH_HEAP_FREE], 2, "malloc hands back the freed block");
    cr_assert_eq(r.distinct[MW__SVH_HEAP_LEAK], r.fills, "without free, a new block each fill");
    /* 40,000 bytes of fresh memory span at least 9 pages: about that many faults per fill. */
    cr_assert_geq(r.faults_per_fill[MW__SVH_HEAP_LEAK], 0.8 * (40000.0 / page));
    cr_assert_lt(r.faults_per_fill[MW__SVH_HEAP_FREE], 0.1);
    cr_assert_lt(r.faults_per_fill[MW__SVH_STACK], 0.1);
    cr_assert_eq(r.leak_faults, MW__LAB_HOLDS);
    cr_assert_eq(r.reuse_explains == MW__LAB_HOLDS || r.heap_free_vs_stack >= 1.25, 1);
}

Test(bench_exp, stack_vs_heap_without_free_ranks_slowest)
{
    mw__lab_svh_t r;

    cr_assert_eq(mw__lab_stack_vs_heap(&quick, &r), 0);
    /* ~10 page faults per fill against none: measured 10x here; a 1.5x margin on medians. */
    cr_assert_gt(r.run[MW__SVH_HEAP_LEAK].wall_ns.median,
                 1.5 * r.run[MW__SVH_HEAP_FREE].wall_ns.median);
    cr_assert_gt(r.run[MW__SVH_HEAP_LEAK].wall_ns.median,
                 1.5 * r.run[MW__SVH_STACK].wall_ns.median);
    cr_assert_eq(r.leak_slower, MW__LAB_HOLDS);
}

/* ---- reuse
 * ---------------------------------------------------------------------------------------- */

static const mw__lab_reuse_row_t *reuse_row(const mw__lab_reuse_t *r, size_t size, int mode)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].size == size && (int)r->rows[i].mode == mode)
            return &r->rows[i];
    cr_assert_fail("no row for %zu bytes, mode %d", size, mode);
    return NULL;
}

Test(bench_exp, reuse_counts_below_and_above_the_threshold)
{
    mw__lab_reuse_t r;

    cr_assert_eq(mw__lab_reuse(&quick, &r), 0);
    cr_assert_eq(r.nrows, 8, "4 sizes x 2 modes");
    for (int m = 0; m < MW__MODES; m++) {
        const mw__lab_reuse_row_t *small = reuse_row(&r, 64, m), *arr = reuse_row(&r, 40000, m);
        cr_assert_eq(small->distinct, 1);
        cr_assert_eq(arr->distinct, 1);
        cr_assert_eq(arr->same_as_previous, arr->rounds - 1);
        cr_assert_eq(arr->mmapped, 0);
    }
    const mw__lab_reuse_row_t *pinned = reuse_row(&r, 1 << 20, MW__MODE_FIXED);
    cr_assert_eq(pinned->mmapped, pinned->rounds, "pinned threshold: mmap every round");
    cr_assert_geq(pinned->faults_per_round, (1 << 20) / r.page, "and fault in every page");
    const mw__lab_reuse_row_t *dflt = reuse_row(&r, 1 << 20, MW__MODE_DEFAULT);
    cr_assert_eq(dflt->mmapped, 1, "default: mmap once, then the threshold grows past 1 MiB");
    cr_assert_lt(dflt->faults_per_round, 0.1 * pinned->faults_per_round);
    cr_assert_eq(r.small_reused, MW__LAB_HOLDS);
    cr_assert_eq(r.big_mmapped, MW__LAB_HOLDS);
    cr_assert_eq(r.threshold_grew, MW__LAB_HOLDS);
}

/* ---- sizes
 * ---------------------------------------------------------------------------------------- */

Test(bench_exp, sizes_show_the_threshold_in_fault_counts)
{
    mw__lab_sizes_t *r = malloc(sizeof *r);

    cr_assert_eq(mw__lab_sizes(&quick, r), 0);
    cr_assert_eq(r->rows[0].size, 16);
    cr_assert_eq(r->rows[r->nrows - 1].size, 64u << 20);
    cr_assert(r->first_mmapped[MW__MODE_FIXED] >= 128 * 1024 &&
                  r->first_mmapped[MW__MODE_FIXED] <= 256 * 1024,
              "pinned at 128 KiB, mmap starts at %zu", r->first_mmapped[MW__MODE_FIXED]);
    cr_assert_gt(r->first_mmapped[MW__MODE_DEFAULT], 1 << 20, "the default threshold grows");
    for (size_t i = 0; i < r->nrows; i++) {
        const mw__lab_sizes_row_t *x = &r->rows[i];
        double pages = (double)((x->size + r->page - 1) / r->page);
        double f = x->run[MW__MODE_FIXED].minflt_per_op;
        if (x->size >= 256 * 1024)
            cr_assert_geq(f, 0.9 * pages, "%zu B pinned: %.1f faults for %.0f pages", x->size, f,
                          pages);
        else if (x->size <= 32 * 1024)
            cr_assert_lt(f, 1, "%zu B pinned: %.2f faults a call from the heap", x->size, f);
    }
    cr_assert_eq(r->step_at_threshold, MW__LAB_HOLDS);
    cr_assert_geq(r->faults_per_page, 0.9);
    free(r);
}

Test(bench_exp, sizes_pinned_mapping_ranks_far_slower_at_1mib)
{
    mw__lab_sizes_t *r = malloc(sizeof *r);

    cr_assert_eq(mw__lab_sizes(&quick, r), 0);
    const mw__lab_sizes_row_t *mib = NULL;
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].size == 1 << 20)
            mib = &r->rows[i];
    cr_assert_not_null(mib);
    /* 256 faults against none: measured ~190x here; a 3x margin on medians. */
    cr_assert_gt(mib->run[MW__MODE_FIXED].wall_ns.median,
                 3 * mib->run[MW__MODE_DEFAULT].wall_ns.median);
    cr_assert_eq(r->default_avoids, MW__LAB_HOLDS);
    free(r);
}

/* ---- first-touch
 * ---------------------------------------------------------------------------------- */

Test(bench_exp, first_touch_fault_counts)
{
    mw__lab_ft_t r;

    cr_assert_eq(mw__lab_first_touch(&quick, &r), 0);
    cr_assert(r.ran[MW__FT_FRESH] && r.ran[MW__FT_REUSED] && r.ran[MW__FT_DONTNEED]);
    cr_assert_geq(r.run[MW__FT_FRESH].minflt_per_op, 0.99, "one fault per fresh page");
    cr_assert_lt(r.run[MW__FT_REUSED].minflt_per_op, 0.01, "none for a page touched before");
    cr_assert_geq(r.run[MW__FT_DONTNEED].minflt_per_op, 0.99, "given back: faults again");
    cr_assert_eq(r.given_back_pays, MW__LAB_HOLDS);
    cr_assert_eq(r.ran[MW__FT_HUGE], r.huge_possible);
}

Test(bench_exp, first_touch_fresh_ranks_slower_than_reused)
{
    mw__lab_ft_t r;

    cr_assert_eq(mw__lab_first_touch(&quick, &r), 0);
    /* A fault with a page to zero against a cached store: measured ~150x here; margin 5x. */
    cr_assert_gt(r.run[MW__FT_FRESH].wall_ns.median, 5 * r.run[MW__FT_REUSED].wall_ns.median);
    cr_assert_gt(r.run[MW__FT_DONTNEED].wall_ns.median, 5 * r.run[MW__FT_REUSED].wall_ns.median);
    cr_assert_eq(r.fresh_costlier, MW__LAB_HOLDS);
}

/* ---- the shared machinery ----------------------------------------------------------------------
 */

Test(bench_exp, every_experiment_is_listed_and_found)
{
    const char *names[] = {"stack-vs-heap", "reuse", "sizes", "first-touch"};
    size_t n = 0;

    while (mw__lab_all[n])
        n++;
    cr_assert_eq(n, 4);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(mw__lab_find(names[i]), mw__lab_all[i]);
        cr_assert_str_eq(mw__lab_all[i]->name, names[i]);
    }
    cr_assert_null(mw__lab_find("stack"));
    cr_assert_null(mw__lab_find(""));
}

static int child_ok(void *ctx, void *result)
{
    (void)ctx;
    memcpy(result, "from the child", 15);
    return 0;
}

static int child_fails(void *ctx, void *result)
{
    (void)ctx;
    memcpy(result, "must not arrive", 16);
    return -ENOSPC;
}

static int child_dies(void *ctx, void *result)
{
    (void)ctx, (void)result;
    raise(SIGKILL);
    return 0;
}

static int child_allocates(void *ctx, void *result)
{
    (void)result;
    *(int *)ctx = 1; /* the child's copy: the parent's stays 0 */
    return malloc(100) ? 0 : -ENOMEM;
}

/* Whether malloc(1 MiB) is served by mmap here: glibc's starting threshold says yes. */
static int child_mmaps_1m(void *ctx, void *result)
{
    size_t before = mw__lab_mmapped_blocks();
    void *p = malloc(1 << 20);

    (void)ctx;
    mw_bench_keep(p);
    *(int *)result = mw__lab_mmapped_blocks() > before;
    free(p);
    return p ? 0 : -ENOMEM;
}

static MW__LAB_CHILD(ok_desc, "test-ok", child_ok, 0, 15);
static MW__LAB_CHILD(fails_desc, "test-fails", child_fails, 0, 16);
static MW__LAB_CHILD(dies_desc, "test-dies", child_dies, 0, 16);
static MW__LAB_CHILD(allocates_desc, "test-allocates", child_allocates, sizeof(int), 4);
static MW__LAB_CHILD(mmaps_desc, "test-mmaps-1m", child_mmaps_1m, 0, sizeof(int));
Test(bench_exp, in_child_returns_the_result)
{
    char buf[32] = "";
    cr_assert_eq(mw__lab_in_child(&ok_desc, NULL, buf), 0);
    cr_assert_str_eq(buf, "from the child");
}

Test(bench_exp, in_child_passes_errors_and_leaves_the_result)
{
    char buf[32] = "untouched";
    cr_assert_eq(mw__lab_in_child(&fails_desc, NULL, buf), -ENOSPC);
    cr_assert_str_eq(buf, "untouched");
    cr_assert_eq(mw__lab_in_child(&dies_desc, NULL, buf), -ECHILD);
    cr_assert_str_eq(buf, "untouched");
}

Test(bench_exp, in_child_changes_nothing_in_the_parent)
{
    int flag = 0;
    char buf[4];
    cr_assert_eq(mw__lab_in_child(&allocates_desc, &flag, buf), 0);
    cr_assert_eq(flag, 0);
}

Test(bench_exp, in_child_starts_from_a_fresh_malloc_state)
{
    /* Freeing a mapped 1 MiB block raises glibc's mmap threshold in this process; a forked child
     * would inherit it and serve 1 MiB from the heap. A fresh process maps it. */
    void *p = malloc(1 << 20);
    mw_bench_keep(p);
    free(p);
    size_t before = mw__lab_mmapped_blocks();
    p = malloc(1 << 20);
    mw_bench_keep(p);
    int here = mw__lab_mmapped_blocks() > before;
    free(p);
    int there = 0;
    cr_assert_eq(mw__lab_in_child(&mmaps_desc, NULL, &there), 0);
    cr_assert_eq(here, 0, "the threshold grew in this process");
    cr_assert_eq(there, 1, "the fresh process maps 1 MiB");
}

Test(bench_exp, csv_rows_match_the_header)
{
    mw__lab_reuse_t r;
    mw__sb_t sb = {0};
    size_t header_commas = 0;

    cr_assert_eq(mw__lab_reuse(&quick, &r), 0);
    for (const char *p = MW__LAB_CSV_HEADER; *p; p++)
        header_commas += *p == ',';
    mw__lab_reuse_desc.csv(&sb, &r);
    cr_assert_not_null(sb.buf);
    size_t rows = 0;
    for (char *line = sb.buf; *line; rows++) {
        size_t commas = 0;
        char *end = strchr(line, '\n');
        cr_assert_not_null(end);
        for (char *p = line; p < end; p++)
            commas += *p == ',';
        cr_assert_eq(commas, header_commas, "row %zu: %.*s", rows, (int)(end - line), line);
        line = end + 1;
    }
    cr_assert_eq(rows, r.nrows);
    mw__sb_free(&sb);
}
