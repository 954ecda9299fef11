/* Explicit free and realloc keep the heap bounded: a freed object is reused at once by the
 * freeing thread's next allocation of its size, freed slots elsewhere are reused before the heap
 * grows, and frees never put collections off for good. Bounds on the heap, never on time. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gc_test.h"

static uint64_t heap_bytes(void)
{
    mw_gc_stats_t st;
    mw_gc_get_stats(&st);
    return st.heap_bytes;
}

static uint64_t collections(void)
{
    mw_gc_stats_t st;
    mw_gc_get_stats(&st);
    return st.collections;
}

Test(gc_free, the_next_allocation_of_that_size_takes_the_freed_object)
{
    static const size_t sizes[] = {16, 48, 100, 1000, 4096};

    unsetenv("MEMWALK_GC_POISON"); /* which keeps freed objects poisoned until a collection */
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *p = mw_gc_malloc(sizes[i]), *q, *a;
        memset(p, 0x77, sizes[i]);
        mw_gc_free(p);
        q = mw_gc_malloc(sizes[i]);
        cr_assert_eq(q, p, "size %zu: freed %p, got %p", sizes[i], (void *)p, (void *)q);
        for (size_t k = 0; k < sizes[i]; k++)
            cr_assert_eq(q[k], 0, "size %zu: byte %zu of the reused object is not zero", sizes[i],
                         k);
        a = mw_gc_malloc_atomic(sizes[i]);
        mw_gc_free(a);
        cr_assert_eq(mw_gc_malloc_atomic(sizes[i]), a, "atomic size %zu", sizes[i]);
    }
}

/* The loop: allocate, write, free, COUNT times. */
static void free_loop(size_t size, long count, uint64_t bound)
{
    uint64_t before = heap_bytes(), after;

    for (long i = 0; i < count; i++) {
        char *p = mw_gc_malloc(size);
        cr_assert_not_null(p);
        p[0] = 1;
        p[size - 1] = 2;
        mw_gc_free(p);
    }
    after = heap_bytes();
    cr_assert_leq(after, before + bound,
                  "%ld x (malloc %zu, free): heap grew from %llu to %llu bytes", count, size,
                  (unsigned long long)before, (unsigned long long)after);
}

Test(gc_free, small_free_loop_keeps_the_heap_bounded)
{
    free_loop(48, 2000000, 256 << 10); /* 92 MiB went through */
}

Test(gc_free, page_sized_free_loop_keeps_the_heap_bounded)
{
    free_loop(4096, 100000, 256 << 10); /* 391 MiB */
}

Test(gc_free, large_and_huge_free_loops_keep_the_heap_bounded)
{
    free_loop(64 << 10, 10000, 1 << 20); /* 625 MiB */
    free_loop(3 << 20, 300, 8 << 20);    /* 900 MiB */
}

#define OLD 100000

static void *NOINLINE build_old(void ***table)
{
    void **t = mw_gc_malloc(OLD * sizeof *t);
    for (long i = 0; i < OLD; i++)
        t[i] = mw_gc_malloc(64);
    *table = t;
    return t;
}

Test(gc_free, slots_freed_in_other_blocks_are_reused_before_the_heap_grows)
{
    void **old;
    uint64_t before, after;

    build_old(&old);
    mw_gc_malloc(64); /* the cursor moves on from the last block of the table */
    before = heap_bytes();
    for (long i = 0; i < OLD; i++)
        mw_gc_free(old[i]);
    for (long i = 0; i < OLD; i++)
        old[i] = mw_gc_malloc(64); /* 6.1 MiB: the freed slots' room */
    after = heap_bytes();
    cr_assert_leq(after, before + (256 << 10), "heap grew from %llu to %llu bytes",
                  (unsigned long long)before, (unsigned long long)after);
}

Test(gc_free, frees_do_not_put_collections_off)
{
    uint64_t c0 = collections();

    /* Mostly frees, and one object in 8 dropped unfreed: 48 MiB of garbage only a collection
     * reclaims. */
    for (long i = 0; i < 8000000; i++) {
        char *p = mw_gc_malloc(48);
        p[0] = 1;
        mw_gc_free(p);
        if (i % 8 == 0)
            ((char *volatile)mw_gc_malloc(48))[0] = 1;
    }
    cr_assert_gt(collections(), c0, "48 MiB of garbage and no collection");
    cr_assert_leq(heap_bytes(), 16 << 20, "heap %llu bytes", (unsigned long long)heap_bytes());
}

static char *volatile kept;

Test(gc_free, realloc_string_builder_keeps_the_heap_bounded)
{
    /* 200,000 strings, each grown 20 times by 16 bytes; only the last one is kept. */
    for (long i = 0; i < 200000; i++) {
        char *s = NULL;
        size_t len = 0;
        for (int k = 0; k < 20; k++) {
            s = mw_gc_realloc(s, len + 16);
            cr_assert_not_null(s);
            memset(s + len, 'a' + k, 16);
            len += 16;
        }
        kept = s;
    }
    cr_assert_eq(kept[319], 'a' + 19);
    cr_assert_leq(heap_bytes(), 4 << 20, "heap %llu bytes", (unsigned long long)heap_bytes());
}

Test(gc_free, realloc_growing_large_strings_keeps_the_heap_bounded)
{
    /* 300 strings grown 20 times by 64 KiB, to 1.25 MiB: large, then huge objects. */
    for (long i = 0; i < 300; i++) {
        char *s = NULL;
        size_t len = 0;
        for (int k = 0; k < 20; k++) {
            s = mw_gc_realloc(s, len + (64 << 10));
            cr_assert_not_null(s);
            memset(s + len, 'a' + k, 64 << 10);
            len += 64 << 10;
        }
        kept = s;
    }
    cr_assert_eq(kept[(20 << 16) - 1], 'a' + 19);
    cr_assert_leq(heap_bytes(), 24 << 20, "heap %llu bytes", (unsigned long long)heap_bytes());
}
