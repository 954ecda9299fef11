/* The Boehm API on memwalk: allocation rules (the extra byte, realloc, free, strings, alignment),
 * objects, roots, collection control, heap figures, warnings and out-of-memory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "boehm_test.h"
#include <gc/gc_typed.h>

static volatile int finalized;
static char *end_only;
static void *keep, *keep_too;

NOINLINE static int end_is_in_an_object(void)
{
    return GC_base(end_only) != NULL;
}

NOINLINE static void end_pointer_only(size_t n)
{
    char *p = GC_MALLOC(n);

    GC_REGISTER_FINALIZER(p, bt_count_fin, (void *)&finalized, NULL, NULL);
    end_only = p + n;
}

Test(boehm_api, pointer_past_the_end_keeps_the_object)
{
    GC_INIT();
    end_pointer_only(32);
    bt_collect();
    bt_collect();
    cr_assert_eq(finalized, 0, "only a pointer one past the end, as Boehm allows");
    cr_assert(end_is_in_an_object());
    end_only = NULL;
    bt_collect();
    cr_assert_eq(finalized, 1);
}

Test(boehm_api, size_counts_the_extra_byte)
{
    cr_assert_geq(GC_size(GC_MALLOC(16)), 17);
    cr_assert_geq(GC_size(GC_MALLOC_ATOMIC(100)), 101);
    cr_assert_eq(GC_get_all_interior_pointers(), 1);
}

Test(boehm_api, no_extra_byte_when_interior_pointers_are_off)
{
    GC_set_all_interior_pointers(0);
    GC_INIT();
    cr_assert_eq(GC_size(GC_MALLOC(16)), 16);
    cr_assert_eq(GC_size(GC_MALLOC_UNCOLLECTABLE(16)), 16);
}

Test(boehm_api, malloc_clears_and_new_types)
{
    struct pair {
        void *a, *b;
    } * p;

    for (int i = 0; i < 10000; i++) {
        p = GC_NEW(struct pair);
        cr_assert(p && !p->a && !p->b);
        p->a = p;
    }
    cr_assert_not_null(GC_NEW_ATOMIC(double));
    cr_assert_not_null(GC_NEW_UNCOLLECTABLE(struct pair));
}

Test(boehm_api, realloc_follows_boehms_rules)
{
    char *p = GC_REALLOC(NULL, 10);

    cr_assert_not_null(p);
    strcpy(p, "memwalk");
    p = GC_REALLOC(p, 100000);
    cr_assert_str_eq(p, "memwalk");
    p = GC_REALLOC(p, 4);
    cr_assert_eq(memcmp(p, "memw", 4), 0);
    cr_assert_null(GC_REALLOC(p, 0), "size 0 frees");
    cr_assert_null(GC_base(p), "freed");
}

Test(boehm_api, free_ignores_pointers_it_does_not_know)
{
    char *p = GC_MALLOC(64), *q = GC_MALLOC_ATOMIC(64);
    int local;

    GC_FREE(p);
    GC_FREE(p); /* twice: ignored, as nothing can be done safely */
    GC_FREE(&local);
    GC_FREE(NULL);
    GC_FREE(q + 10); /* inside an object: that object */
    cr_assert_null(GC_base(q));
}

Test(boehm_api, strdup_and_strndup)
{
    char *a = GC_STRDUP("hello, world"), *b = GC_STRNDUP("hello, world", 5);

    cr_assert_str_eq(a, "hello, world");
    cr_assert_str_eq(b, "hello");
    cr_assert_str_eq(GC_STRNDUP("ab", 100), "ab");
    cr_assert_null(GC_strdup(NULL));
}

Test(boehm_api, memalign_aligns_and_frees)
{
    size_t aligns[] = {8, 16, 32, 64, 256, 4096, 65536};
    void *p;

    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        for (size_t n = 1; n < 100000; n = n * 7 + 3) {
            p = GC_memalign(aligns[i], n);
            cr_assert_not_null(p);
            cr_assert_eq((uintptr_t)p % aligns[i], 0, "align %zu size %zu", aligns[i], n);
            memset(p, 1, n);
            cr_assert_not_null(GC_base(p));
            GC_FREE(p);
        }
    }
    cr_assert_eq(GC_posix_memalign(&p, 3, 10), EINVAL);
    cr_assert_eq(GC_posix_memalign(&p, 128, 10), 0);
    cr_assert_eq((uintptr_t)p % 128, 0);
}

Test(boehm_api, base_size_and_same_obj)
{
    char *p = GC_MALLOC(1000);
    int local;

    cr_assert_eq(GC_base(p + 999), p);
    cr_assert_null(GC_base(&local));
    cr_assert_geq(GC_size(p), 1000);
    cr_assert_eq(GC_same_obj(p + 1, p + 500), p + 1);
    cr_assert_eq(GC_same_obj(&local, p), (void *)&local, "not in the heap: nothing to check");
    cr_assert(GC_is_heap_ptr(p));
    cr_assert(!GC_is_heap_ptr(&local));
    cr_assert_eq(GC_is_visible(p), p);
    GC_REGISTER_DISPLACEMENT(8);
}

Test(boehm_api, same_obj_aborts_on_two_objects, .signal = SIGABRT)
{
    GC_same_obj(GC_MALLOC(16), GC_MALLOC(16));
}

static size_t oom_asked;
static char oom_buffer[64];

/* GC_malloc is declared malloc-like: the compiler may assume its result is never oom_buffer
 * unless it cannot see where the pointer came from. */
static uintptr_t launder(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return (uintptr_t)p;
}

static void *oom(size_t n)
{
    oom_asked = n;
    return oom_buffer;
}

Test(boehm_api, huge_requests_fail_through_the_oom_function)
{
    /* volatile: the compiler would refuse the sizes it can see */
    volatile size_t max = SIZE_MAX;

    cr_assert_null(GC_MALLOC(max));
    cr_assert_null(GC_MALLOC((max >> 1) + 1));
    cr_assert_null(GC_MALLOC_ATOMIC(max - 4096));
    cr_assert_null(GC_REALLOC(GC_MALLOC(8), max - 1));
    GC_set_oom_fn(oom);
    cr_assert_eq(GC_get_oom_fn(), oom);
    cr_assert_eq(launder(GC_MALLOC(max - 8)), (uintptr_t)oom_buffer);
    cr_assert_eq(oom_asked, max - 8);
}

Test(boehm_api, oom_function_sees_the_size_asked_under_a_heap_limit)
{
    GC_set_max_heap_size(32 << 20);
    GC_set_oom_fn(oom);
    cr_assert_eq(launder(GC_MALLOC(64 << 20)), (uintptr_t)oom_buffer);
    cr_assert_eq(oom_asked, 64 << 20);
}

Test(boehm_api, disable_stops_collections_even_explicit_ones)
{
    GC_word n;

    GC_INIT();
    n = GC_get_gc_no();
    GC_gcollect();
    cr_assert_eq(GC_get_gc_no(), n + 1);
    GC_disable();
    cr_assert(GC_is_disabled());
    GC_gcollect();
    cr_assert_eq(GC_try_to_collect(NULL), 0);
    cr_assert_eq(GC_get_gc_no(), n + 1, "no collection while disabled");
    GC_enable();
    cr_assert(!GC_is_disabled());
    GC_gcollect();
    cr_assert_eq(GC_get_gc_no(), n + 2);
}

Test(boehm_api, heap_figures_move)
{
    size_t total;

    GC_INIT();
    total = GC_get_total_bytes();
    keep = GC_MALLOC(1 << 20);
    cr_assert_geq(GC_get_total_bytes(), total + (1 << 20));
    cr_assert_geq(GC_get_heap_size(), 1 << 20);
    cr_assert_leq(GC_get_free_bytes(), GC_get_heap_size());
    cr_assert_geq(GC_get_bytes_since_gc(), 1 << 20);
    cr_assert_geq(GC_get_memory_use(), 1 << 20);
    cr_assert(GC_expand_hp(40 << 20));
    cr_assert_geq(GC_get_heap_size(), 40 << 20);
    cr_assert_eq(GC_get_version(), 0x080200);
    cr_assert(GC_is_init_called());
}

Test(boehm_api, roots_added_and_removed)
{
    void **table = malloc(4 * sizeof(void *));

    table[0] = table[1] = table[2] = table[3] = NULL;
    GC_add_roots(table, table + 4);
    table[2] = GC_MALLOC(48);
    GC_REGISTER_FINALIZER(table[2], bt_count_fin, (void *)&finalized, NULL, NULL);
    bt_collect();
    cr_assert_eq(finalized, 0, "held from a registered root");
    GC_remove_roots(table, table + 4);
    bt_collect();
    cr_assert_eq(finalized, 1);
}

static char warned[1300];

static void warn_proc(char *msg, GC_word arg)
{
    snprintf(warned, sizeof warned, msg, (unsigned long)arg);
}

Test(boehm_api, warnings_reach_the_warn_proc)
{
    GC_warn_proc old = GC_get_warn_proc();

    cr_assert_not_null(old);
    GC_set_warn_proc(warn_proc);
    cr_assert_eq(GC_get_warn_proc(), warn_proc);
    GC_set_find_leak(1);
    cr_assert(strstr(warned, "no leak-finding mode") != NULL, "got: %s", warned);
    cr_assert_eq(warned[strlen(warned) - 1], '\n');
    cr_assert_eq(GC_get_find_leak(), 0);
    GC_set_warn_proc(GC_ignore_warn_proc);
    warned[0] = '\0';
    GC_set_find_leak(1);
    cr_assert_str_empty(warned);
}

Test(boehm_api, tuning_knobs_read_back)
{
    GC_set_free_space_divisor(7);
    cr_assert_eq(GC_get_free_space_divisor(), 7);
    GC_set_dont_expand(1);
    cr_assert_eq(GC_get_dont_expand(), 1);
    GC_enable_incremental();
    cr_assert_eq(GC_is_incremental_mode(), 0);
}

struct typed {
    void *ptr;
    long number;
    void *other;
};

/* In a frame of its own: no register of the caller's holds the new object afterwards. */
NOINLINE static void store_finalizable(long *where)
{
    *where = (long)GC_MALLOC(100);
    GC_REGISTER_FINALIZER((void *)*where, bt_count_fin, (void *)&finalized, NULL, NULL);
}

Test(boehm_api, typed_objects_scan_what_may_hold_pointers)
{
    GC_word bm[GC_BITMAP_SIZE(struct typed)] = {0}, none[1] = {0};
    GC_descr d, d_none;
    struct typed *t;
    long *numbers;

    GC_set_bit(bm, GC_WORD_OFFSET(struct typed, ptr));
    GC_set_bit(bm, GC_WORD_OFFSET(struct typed, other));
    d = GC_make_descriptor(bm, GC_WORD_LEN(struct typed));
    d_none = GC_make_descriptor(none, 4);
    t = GC_MALLOC_EXPLICITLY_TYPED(sizeof *t, d);
    cr_assert(t && !t->ptr && !t->number && !t->other);
    t->ptr = GC_MALLOC(100);
    GC_REGISTER_FINALIZER(t->ptr, bt_count_fin, (void *)&finalized, NULL, NULL);
    keep = t;
    bt_collect();
    cr_assert_eq(finalized, 0, "held by a word the descriptor says may be a pointer");
    numbers = GC_CALLOC_EXPLICITLY_TYPED(1000, sizeof(long), d_none);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(numbers[i], 0);
    store_finalizable(numbers + 3);
    keep_too = numbers; /* keep still holds t */
    bt_collect();
    cr_assert_eq(finalized, 1, "an object without pointer words is not scanned");
}

Test(boehm_api, malloc_many_links_cleared_objects)
{
    void *list = GC_malloc_many(48);
    int n = 0;

    for (void *p = list; p; p = GC_NEXT(p), n++) {
        cr_assert_geq(GC_size(p), 48);
        cr_assert_eq(((long *)p)[2], 0);
    }
    cr_assert_geq(n, 1);
}

Test(boehm_api, automatic_collection_off_keeps_explicit_ones)
{
    GC_word n;

    GC_INIT();
    GC_set_disable_automatic_collection(1);
    cr_assert_eq(GC_get_disable_automatic_collection(), 1);
    n = GC_get_gc_no();
    for (int i = 0; i < 2000000; i++)
        GC_MALLOC(64);
    cr_assert_eq(GC_get_gc_no(), n, "128 MB allocated, no collection");
    GC_gcollect();
    cr_assert_eq(GC_get_gc_no(), n + 1);
    GC_set_disable_automatic_collection(0);
    cr_assert(!GC_is_disabled());
}

static char *volatile past_first_page; /* volatile: stores to it are never dropped */
static volatile int finalized_plain, finalized_off_page;

/* Keeps only a pointer 1 MiB into a new 2 MiB object, which has a finalizer. */
NOINLINE static void interior_pointer_only(int off_page)
{
    char *p = off_page ? GC_MALLOC_IGNORE_OFF_PAGE(2 << 20) : GC_MALLOC(2 << 20);

    GC_REGISTER_FINALIZER(p, bt_count_fin,
                          (void *)(off_page ? &finalized_off_page : &finalized_plain), NULL, NULL);
    past_first_page = p + (1 << 20);
}

Test(boehm_api, ignore_off_page_objects_are_kept_by_their_first_page_only)
{
    GC_INIT();
    interior_pointer_only(0);
    bt_collect();
    bt_collect();
    cr_assert_eq(finalized_plain, 0, "a plain object: any interior pointer keeps it");
    cr_assert_not_null(GC_base(past_first_page));
    interior_pointer_only(1);
    bt_collect();
    bt_collect();
    cr_assert_eq(finalized_off_page, 1,
                 "an ignore-off-page object: a pointer past its first page does not keep it");
    past_first_page = NULL;
}

Test(boehm_api, parallel_when_several_markers)
{
    setenv("MEMWALK_GC_MARKERS", "3", 1); /* read when the collector starts */
    GC_INIT();
    cr_assert_eq(GC_get_parallel(), 1);
}

Test(boehm_api, not_parallel_with_one_marker)
{
    setenv("MEMWALK_GC_MARKERS", "1", 1);
    GC_INIT();
    cr_assert_eq(GC_get_parallel(), 0);
}
