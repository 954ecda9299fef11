/* False retention: new objects are not placed where stale pointers already point (black-listing),
 * and objects allocated with the ignore-off-page calls are kept only by pointers into their first
 * page. Each case counts finalizers: an object kept alive by a stale word never gets finalized. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gc/gc_internal.h"
#include "gc_test.h"

static volatile int finalized;

/* Dangling interior pointers into freed memory, in a live scanned table (static, so a data
 * root). */
#define CELLS 262144 /* 16 MiB of 64-byte cells */
#define STALE 2048
static uintptr_t stale[STALE];

static void NOINLINE make_stale_cells(void)
{
    void **cells = mw_gc_malloc(CELLS * sizeof *cells);
    int k = 0;

    for (long i = 0; i < CELLS; i++)
        cells[i] = mw_gc_malloc(64);
    for (long i = 0; i < CELLS; i++) {
        if (i % (CELLS / STALE) == 0 && k < STALE)
            stale[k++] = (uintptr_t)cells[i] + 8;
        mw_gc_free(cells[i]);
    }
    mw_gc_free(cells);
}

/* How many stale words point into [p, p + size). */
static int stale_in(const char *p, size_t size)
{
    int hits = 0;
    for (int i = 0; i < STALE; i++)
        hits += stale[i] >= (uintptr_t)p && stale[i] < (uintptr_t)p + size;
    return hits;
}

static void NOINLINE alloc_and_drop(size_t size, void *(*alloc)(size_t))
{
    char *p = alloc(size);
    cr_assert_not_null(p);
    cr_assert_eq(stale_in(p, size), 0, "a %zu-byte object placed where %d stale words point", size,
                 stale_in(p, size));
    cr_assert_eq(mw_gc_set_finalizer(p, gc_test_count_fin, (void *)&finalized), 0);
    memset(p, 1, 64);
}

static void large_objects_avoid_stale_pages(void)
{
    int n = 0;

    make_stale_cells();
    gc_test_collect(); /* the freed pages are met, with the stale words in them */
    /* Rounds enough for idle free chunks to be given back (MEMWALK_GC_UNMAP_AFTER): one that
     * stale words point into must stay, or a new chunk could be mapped at its place. */
    for (int round = 0; round < 8; round++) {
        for (int i = 0; i < 32; i++, n++)
            alloc_and_drop(128 << 10, mw_gc_malloc);
        gc_test_collect();
        gc_test_collect();
    }
    cr_assert_eq(finalized, n, "%d of %d large objects kept alive by stale pointers", n - finalized,
                 n);
}

static void NOINLINE make_stale_huge(size_t size)
{
    char *big = mw_gc_malloc(size);
    cr_assert_not_null(big);
    for (int i = 0; i < STALE; i++)
        stale[i] = (uintptr_t)big + (size / STALE) * (uintptr_t)i + 8;
    mw_gc_free(big);
}

static void huge_objects_avoid_stale_ranges(void)
{
    static const size_t sizes[] = {(size_t)8 << 20, (size_t)64 << 20};

    for (int s = 0; s < 2; s++) {
        finalized = 0;
        make_stale_huge(sizes[s]);
        gc_test_collect();
        for (int i = 0; i < 3; i++) {
            alloc_and_drop(sizes[s], mw_gc_malloc);
            gc_test_collect();
            gc_test_collect();
        }
        cr_assert_eq(finalized, 3, "size %zu: %d of 3 kept alive by stale pointers", sizes[s],
                     3 - finalized);
    }
}

Test(gc_retention, black_listed_pages_still_serve_when_nothing_else_fits)
{
    mw_gc_stats_t st;

    /* Every free page black-listed, a heap limit: allocations still succeed. */
    setenv("MEMWALK_GC_MAX_HEAP", "40M", 1);
    make_stale_cells();
    gc_test_collect();
    for (int i = 0; i < 400; i++)
        cr_assert_not_null(mw_gc_malloc(64 << 10), "allocation %d failed", i);
    mw_gc_get_stats(&st);
    cr_assert_leq(st.heap_bytes, 40 << 20);
}

/* ---- ignore-off-page ---- */
static char *volatile inside, *volatile inside2; /* live pointers into the objects */

static void NOINLINE alloc_into(char *volatile *slot, size_t size, void *(*alloc)(size_t),
                                size_t keep_at)
{
    char *p = alloc(size);
    cr_assert_not_null(p);
    cr_assert_eq(mw_gc_set_finalizer(p, gc_test_count_fin, (void *)&finalized), 0);
    memset(p, 0, 64);
    *slot = p + keep_at;
}

static void alloc_off_page(size_t size, void *(*alloc)(size_t), size_t keep_at)
{
    alloc_into(&inside, size, alloc, keep_at);
}

static void off_page_objects_kept_by_their_first_page(void)
{
    static const size_t sizes[] = {64 << 10, 4 << 20};

    for (int s = 0; s < 2; s++) {
        size_t size = sizes[s];
        finalized = 0;
        alloc_off_page(size, mw_gc_malloc_ignore_off_page, 4000);
        gc_test_collect();
        cr_assert_eq(finalized, 0, "size %zu: a pointer into the first page keeps it", size);
        inside = NULL;
        gc_test_collect();
        cr_assert_eq(finalized, 1, "size %zu: freed once nothing points into it", size);

        alloc_off_page(size, mw_gc_malloc_atomic_ignore_off_page, size / 2);
        gc_test_collect();
        cr_assert_eq(finalized, 2, "size %zu: a pointer past the first page does not keep it",
                     size);

        alloc_off_page(size, mw_gc_malloc, size / 2);
        gc_test_collect();
        cr_assert_eq(finalized, 2, "size %zu: a plain object is kept by any interior pointer",
                     size);
        inside = NULL;
        gc_test_collect();
        cr_assert_eq(finalized, 3);
    }
}

Test(gc_retention, large_objects_avoid_pages_stale_pointers_point_into)
{
    large_objects_avoid_stale_pages();
}

Test(gc_retention, huge_objects_avoid_ranges_stale_pointers_point_into)
{
    huge_objects_avoid_stale_ranges();
}

Test(gc_retention, ignore_off_page_objects_are_kept_by_their_first_page_only)
{
    off_page_objects_kept_by_their_first_page();
}

/* The same with four markers: every marker black-lists and tests huge objects as the serial
 * marker does (these heaps are big enough for parallel phases). */
static void four_markers(void)
{
    setenv("MEMWALK_GC_MARKERS", "4", 1); /* read at the collector's first use */
    setenv("MEMWALK_GC_PARALLEL_MIN", "0", 1);
}

Test(gc_retention, parallel_marking_black_lists_pages, .init = four_markers)
{
    large_objects_avoid_stale_pages();
    cr_assert_gt(mw__gc.mk.phases, 0, "no parallel phase ran");
}

Test(gc_retention, parallel_marking_black_lists_huge_ranges, .init = four_markers)
{
    huge_objects_avoid_stale_ranges();
    cr_assert_gt(mw__gc.mk.phases, 0, "no parallel phase ran");
}

Test(gc_retention, parallel_marking_honours_ignore_off_page, .init = four_markers)
{
    void *ballast = mw_gc_malloc_atomic(8 << 20); /* a heap that marks in parallel */

    off_page_objects_kept_by_their_first_page();
    cr_assert_gt(mw__gc.mk.phases, 0, "no parallel phase ran");
    __asm__ volatile("" : : "r"(ballast) : "memory");
}

Test(gc_retention, ignore_off_page_survives_realloc)
{
    char *p = mw_gc_malloc_ignore_off_page(64 << 10);

    p = mw_gc_realloc(p, 3 << 20);
    cr_assert_not_null(p);
    cr_assert_eq(mw_gc_set_finalizer(p, gc_test_count_fin, (void *)&finalized), 0);
    inside = p + (2 << 20);
    p = NULL;
    gc_test_collect();
    cr_assert_eq(finalized, 1, "the grown object still ignores pointers past its first page");
}

Test(gc_retention, ignore_off_page_env_applies_to_large_allocations)
{
    setenv("MEMWALK_GC_IGNORE_OFF_PAGE", "32K", 1);
    alloc_into(&inside2, 16 << 10, mw_gc_malloc, 8 << 10); /* under the size: plain */
    alloc_into(&inside, 64 << 10, mw_gc_malloc, 32 << 10);
    gc_test_collect();
    cr_assert_eq(finalized, 1, "the 64 KiB object was freed, the 16 KiB one kept");
}
