/* The allocation API: zeroing, sizes, realloc, strdup, large and huge objects, explicit free,
 * out-of-memory handling, and wrong usage. */
#include <criterion/criterion.h>
#include <errno.h>
#include <memwalk/show.h>
#include <signal.h>
#include <stdlib.h>

#include "gc/gc_internal.h"
#include "gc_test.h"

static volatile int finalized;
static void *keep;

Test(gc_alloc, malloc_returns_zeroed_memory_after_reuse)
{
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 20000; i++) {
            unsigned char *p = mw_gc_malloc(48);
            for (int j = 0; j < 48; j++)
                cr_assert_eq(p[j], 0, "round %d object %d byte %d", round, i, j);
            memset(p, 0xff, 48);
        }
        gc_test_collect();
    }
}

Test(gc_alloc, malloc_zero_returns_distinct_objects)
{
    void *a = mw_gc_malloc(0), *b = mw_gc_malloc(0);

    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_neq(a, b);
}

Test(gc_alloc, objects_are_aligned_to_16_bytes)
{
    for (size_t n = 1; n < 5000; n += 37)
        cr_assert_eq((uintptr_t)mw_gc_malloc(n) % 16, 0, "size %zu", n);
}

Test(gc_alloc, calloc_overflow_fails_with_enomem)
{
    errno = 0;
    cr_assert_null(mw_gc_calloc(SIZE_MAX / 2, 3));
    cr_assert_eq(errno, ENOMEM);
}

Test(gc_alloc, calloc_returns_zeroed_memory)
{
    unsigned char *p = mw_gc_calloc(100, 7);

    for (int i = 0; i < 700; i++)
        cr_assert_eq(p[i], 0);
}

Test(gc_alloc, strdup_copies_into_collected_memory)
{
    char *s = mw_gc_strdup("a walk on memory");

    cr_assert_str_eq(s, "a walk on memory");
    cr_assert(mw__gc_heap_contains(s));
    errno = 0;
    cr_assert_null(mw_gc_strdup(NULL));
    cr_assert_eq(errno, EINVAL);
}

static void fill_pattern(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 7 + 3);
}

static int has_pattern(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 7 + 3))
            return 0;
    return 1;
}

Test(gc_alloc, realloc_keeps_contents_across_every_size)
{
    static const size_t sizes[] = {24, 100, 3000, 70000, 3u << 20, 5000, 40};
    size_t old = 10;
    unsigned char *p = mw_gc_malloc(old);

    fill_pattern(p, old);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t keep_n = old < sizes[i] ? old : sizes[i];
        p = mw_gc_realloc(p, sizes[i]);
        cr_assert_not_null(p);
        cr_assert(has_pattern(p, keep_n), "%zu -> %zu", old, sizes[i]);
        for (size_t j = keep_n; j < sizes[i]; j++)
            cr_assert_eq(p[j], 0, "%zu -> %zu: byte %zu not zero", old, sizes[i], j);
        fill_pattern(p, sizes[i]);
        old = sizes[i];
    }
}

Test(gc_alloc, realloc_of_null_allocates_and_to_zero_frees)
{
    mw_gc_stats_t a, b;
    void *p = mw_gc_realloc(NULL, 100);

    cr_assert_not_null(p);
    mw_gc_get_stats(&a);
    cr_assert_null(mw_gc_realloc(p, 0));
    mw_gc_get_stats(&b);
    cr_assert_geq(b.freed_bytes - a.freed_bytes, 100);
}

NOINLINE static void hang_from_atomic_realloc(void)
{
    void **a = mw_gc_malloc_atomic(16);
    void *child = mw_gc_malloc(16);

    mw_gc_set_finalizer(child, gc_test_count_fin, (void *)&finalized);
    a = mw_gc_realloc(a, 4000); /* still atomic: must not keep child alive */
    a[0] = child;
    keep = a;
}

Test(gc_alloc, realloc_keeps_an_atomic_object_atomic)
{
    hang_from_atomic_realloc();
    gc_test_collect();
    cr_assert_eq(finalized, 1);
}

NOINLINE static void make_large(size_t n)
{
    unsigned char *p = mw_gc_malloc(n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(p[i], 0);
    fill_pattern(p, n);
    mw_gc_set_finalizer(p, gc_test_count_fin, (void *)&finalized);
    keep = p + n - 1; /* only a pointer to the last byte */
}

Test(gc_alloc, large_object_is_zeroed_and_kept_by_an_interior_pointer)
{
    make_large(300000);
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    cr_assert(has_pattern((unsigned char *)keep - 299999, 300000));
}

Test(gc_alloc, huge_object_is_zeroed_and_kept_by_a_pointer_near_its_end)
{
    make_large(20u << 20); /* over several 4 MiB windows */
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    cr_assert(has_pattern((unsigned char *)keep - ((20u << 20) - 1), 20u << 20));
}

Test(gc_alloc, unreachable_huge_object_is_unmapped)
{
    mw_gc_stats_t a, b;

    make_large(64u << 20);
    keep = NULL;
    mw_gc_get_stats(&a);
    gc_test_collect(); /* finalized: kept until its finalizer ran */
    gc_test_collect();
    mw_gc_get_stats(&b);
    cr_assert_eq(finalized, 1);
    cr_assert_geq(a.heap_bytes, 64u << 20);
    cr_assert_lt(b.heap_bytes, 8u << 20);
}

Test(gc_alloc, free_gives_a_large_object_back_at_once)
{
    mw_gc_stats_t a, b;
    void *p = mw_gc_malloc(64u << 20);

    mw_gc_get_stats(&a);
    mw_gc_free(p);
    mw_gc_get_stats(&b);
    cr_assert_geq(a.heap_bytes - b.heap_bytes, 64u << 20);
    cr_assert_eq(b.collections, 0);
}

Test(gc_alloc, freed_slot_is_reused)
{
    void *p = mw_gc_malloc(64), *q = NULL;

    mw_gc_free(p);
    gc_test_collect();
    for (int i = 0; i < 1000 && q != p; i++)
        q = mw_gc_malloc(64);
    cr_assert_eq(q, p);
}

Test(gc_alloc, free_of_null_does_nothing)
{
    mw_gc_free(NULL);
    cr_assert_not_null(mw_gc_malloc(1));
}

Test(gc_alloc, double_free_aborts, .signal = SIGABRT)
{
    void *p = mw_gc_malloc(32);
    mw_gc_free(p);
    mw_gc_free(p);
}

Test(gc_alloc, free_of_foreign_pointer_aborts, .signal = SIGABRT)
{
    int x = 0;
    mw_gc_malloc(1);
    mw_gc_free(&x);
}

Test(gc_alloc, free_of_interior_pointer_aborts, .signal = SIGABRT)
{
    char *p = mw_gc_malloc(64);
    mw_gc_free(p + 8);
}

Test(gc_alloc, realloc_of_foreign_pointer_aborts, .signal = SIGABRT)
{
    char *p = malloc(16);
    mw_gc_malloc(1);
    mw_gc_realloc(p, 64);
}

static size_t oom_asked;
static char oom_spare[64];

static void *oom_handler(size_t n)
{
    oom_asked = n;
    return oom_spare;
}

Test(gc_alloc, oom_handler_supplies_the_result)
{
    cr_assert_null(mw_gc_set_oom_handler(oom_handler));
    cr_assert_eq(mw_gc_malloc((size_t)1 << 62), oom_spare);
    cr_assert_eq(oom_asked, (size_t)1 << 62);
    cr_assert_eq(mw_gc_set_oom_handler(NULL), oom_handler);
}

Test(gc_alloc, oom_without_handler_returns_null_with_enomem)
{
    errno = 0;
    cr_assert_null(mw_gc_malloc((size_t)1 << 62));
    cr_assert_eq(errno, ENOMEM);
}

Test(gc_alloc, max_heap_limit_fails_allocations_after_collecting)
{
    void **keep_all;
    int n = 0;

    setenv("MEMWALK_GC_MAX_HEAP", "16M", 1);
    keep_all = calloc(100000, sizeof *keep_all);
    mw_gc_add_roots(keep_all, 100000 * sizeof *keep_all);
    while (n < 100000 && (keep_all[n] = mw_gc_malloc(1024)) != NULL)
        n++;
    cr_assert_lt(n, 100000, "16 MiB held %d KiB", n);
    cr_assert_gt(n, 8000);
    cr_assert_eq(errno, ENOMEM);
}

Test(gc_alloc, heap_contains_knows_collected_memory)
{
    int local = 0;
    void *m = malloc(16);

    cr_assert_eq(mw__gc_heap_contains(&local), 0, "before the collector started");
    void *small = mw_gc_malloc(16), *huge = mw_gc_malloc(5u << 20);
    cr_assert_eq(mw__gc_heap_contains(small), 1);
    cr_assert_eq(mw__gc_heap_contains((char *)huge + (5u << 20) - 1), 1);
    cr_assert_eq(mw__gc_heap_contains(&local), 0);
    cr_assert_eq(mw__gc_heap_contains(m), 0);
    cr_assert_eq(mw__gc_heap_contains(NULL), 0);
    cr_assert_eq(mw__gc_heap_contains((void *)UINTPTR_MAX), 0);
}

Test(gc_alloc, size_class_reciprocals_divide_exactly)
{
    mw_gc_malloc(1); /* sets the classes up */
    for (unsigned c = 0; c < MW__GC_NCLASSES; c++) {
        uint32_t size = mw__gc.class_size[c];
        uint64_t recip = (((uint64_t)1 << 32) + size - 1) / size;
        for (uint64_t off = 0; off < (uint64_t)mw__gc.class_pages[c] * MW__GC_PAGE; off++)
            cr_assert_eq((off * recip) >> 32, off / size, "class %u offset %llu", size,
                         (unsigned long long)off);
    }
}

Test(gc_alloc, size_classes_cover_every_small_size)
{
    mw_gc_malloc(1);
    for (size_t n = 0; n <= MW__GC_SMALL_MAX; n++) {
        unsigned c = mw__gc.class_of[(n + 15) / 16];
        cr_assert_geq(mw__gc.class_size[c], n);
        cr_assert(c == 0 || mw__gc.class_size[c - 1] < n, "size %zu wastes a class", n);
    }
}

Test(gc_alloc, add_roots_rejects_bad_ranges)
{
    char buf[16];

    cr_assert_eq(mw_gc_add_roots(NULL, 16), -EINVAL);
    cr_assert_eq(mw_gc_add_roots(buf, 0), -EINVAL);
    cr_assert_eq(mw_gc_add_roots((void *)(UINTPTR_MAX - 4), 16), -EINVAL);
}

Test(gc_alloc, remove_roots_of_unknown_range_is_enoent)
{
    char buf[16];

    cr_assert_eq(mw_gc_remove_roots(buf, sizeof buf), -ENOENT);
    cr_assert_eq(mw_gc_add_roots(buf, sizeof buf), 0);
    cr_assert_eq(mw_gc_remove_roots(buf, sizeof buf), 0);
    cr_assert_eq(mw_gc_remove_roots(buf, sizeof buf), -ENOENT);
}

Test(gc_alloc, show_names_collected_memory_gc_heap)
{
    mw_show_info_t info;
    char *small = mw_gc_malloc(40), *huge = mw_gc_malloc(6u << 20);

    cr_assert_eq(mw_show_describe(small + 8, &info), 0);
    cr_assert_str_eq(info.kind, "gc-heap");
    cr_assert_eq(mw_show_describe(huge + (6u << 20) - 1, &info), 0);
    cr_assert_str_eq(info.kind, "gc-heap");
}
