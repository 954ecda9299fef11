/* The collector keeps an object alive through each kind of root, and only through roots. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdlib.h>

#include "gc_test.h"

#define SIZE    48
#define PATTERN 0x5a

static volatile int finalized;

/* Allocates a patterned object with a counting finalizer; returns it hidden, so the caller's
 * frame never holds its address. */
NOINLINE static uintptr_t make_tracked(void)
{
    unsigned char *p = mw_gc_malloc(SIZE);
    memset(p, PATTERN, SIZE);
    mw_gc_set_finalizer(p, gc_test_count_fin, (void *)&finalized);
    return gc_test_hide(p);
}

static int intact(const void *p)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < SIZE; i++)
        if (c[i] != PATTERN)
            return 0;
    return 1;
}

/* Stores a fresh tracked object (or a pointer into it) at *slot. */
NOINLINE static void store_tracked(void **slot, size_t offset)
{
    *slot = (char *)gc_test_unhide(make_tracked()) + offset;
}

void *gc_test_global = (void *)1; /* .data */
static void *gc_test_bss;         /* .bss */
static __thread void *gc_test_tls;

Test(gc_roots, local_in_optimized_frame_keeps_object)
{
    unsigned char *p = gc_test_unhide(make_tracked());
    __asm__ volatile("" : "+r"(p)); /* the address itself, not its complement, is what we keep */
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    cr_assert(intact(p));
}

#if defined(__x86_64__)
/* Keeps the only copy of the address in r12 (callee-saved) across a collection. */
NOINLINE static uintptr_t collect_with_pointer_in_r12(uintptr_t hidden)
{
    register uintptr_t r __asm__("r12") = hidden;
    void (*fn)(void) = mw_gc_collect;

    __asm__ volatile("notq %0\n\t"
                     "movq %%rsp, %%rbx\n\t"
                     "subq $256, %%rsp\n\t"
                     "andq $-16, %%rsp\n\t"
                     "callq *%1\n\t"
                     "movq %%rbx, %%rsp\n\t"
                     "notq %0\n\t"
                     : "+r"(r)
                     : "r"(fn)
                     : "rbx", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm0",
                       "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                       "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
    return r;
}

Test(gc_roots, register_only_value_keeps_object)
{
    uintptr_t h = make_tracked();
    gc_test_clear_stack();
    h = collect_with_pointer_in_r12(h);
    cr_assert_eq(finalized, 0);
    cr_assert(intact(gc_test_unhide(h)));
}
#endif

Test(gc_roots, global_variable_keeps_object)
{
    store_tracked(&gc_test_global, 0);
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    cr_assert(intact(gc_test_global));
}

NOINLINE static void *static_local(int set)
{
    static void *slot;
    if (set)
        store_tracked(&slot, 0);
    return slot;
}

Test(gc_roots, static_local_keeps_object)
{
    static_local(1);
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    cr_assert(intact(static_local(0)));
}

Test(gc_roots, bss_variable_keeps_object)
{
    store_tracked(&gc_test_bss, 0);
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    cr_assert(intact(gc_test_bss));
}

Test(gc_roots, thread_local_variable_keeps_object)
{
    store_tracked(&gc_test_tls, 0);
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    cr_assert(intact(gc_test_tls));
}

Test(gc_roots, dlopened_library_global_keeps_object)
{
    void *h, **slot;

    mw_gc_free(mw_gc_malloc(8)); /* the collector is running before the library arrives */
    h = dlopen(MW_BUILD_DIR "/tests/libgc-dlroot.so", RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(h, "%s", dlerror());
    slot = dlsym(h, "mw_test_dl_slot");
    cr_assert_not_null(slot);
    store_tracked(slot, 0);
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    cr_assert(intact(*slot));
}

Test(gc_roots, user_root_keeps_object)
{
    void **block = calloc(8, sizeof(void *)); /* malloc memory is not scanned by itself */

    cr_assert_eq(mw_gc_add_roots(block, 8 * sizeof(void *)), 0);
    store_tracked(&block[5], 0);
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    cr_assert(intact(block[5]));
}

Test(gc_roots, removed_user_root_keeps_nothing)
{
    void **block = calloc(8, sizeof(void *));

    cr_assert_eq(mw_gc_add_roots(block, 8 * sizeof(void *)), 0);
    store_tracked(&block[5], 0);
    cr_assert_eq(mw_gc_remove_roots(block, 8 * sizeof(void *)), 0);
    gc_test_collect();
    cr_assert_eq(finalized, 1);
}

Test(gc_roots, malloc_memory_is_not_a_root)
{
    void **block = calloc(8, sizeof(void *));

    store_tracked(&block[2], 0);
    gc_test_collect();
    cr_assert_eq(finalized, 1);
}

Test(gc_roots, interior_pointer_keeps_object)
{
    store_tracked(&gc_test_global, SIZE - 1);
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    cr_assert(intact((char *)gc_test_global - (SIZE - 1)));
}

NOINLINE static void hang_below_holder(void)
{
    void **holder = mw_gc_malloc(4 * sizeof(void *));
    store_tracked(&holder[3], 0);
    gc_test_bss = holder;
}

Test(gc_roots, pointer_inside_collected_object_keeps_object)
{
    hang_below_holder();
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    cr_assert(intact(((void **)gc_test_bss)[3]));
}

NOINLINE static void hang_below_atomic(void)
{
    void **holder = mw_gc_malloc_atomic(4 * sizeof(void *));
    store_tracked(&holder[3], 0);
    gc_test_bss = holder;
}

Test(gc_roots, atomic_object_does_not_retain)
{
    hang_below_atomic();
    gc_test_collect();
    cr_assert_eq(finalized, 1);
}

Test(gc_roots, dropped_object_is_collected)
{
    store_tracked(&gc_test_global, 0);
    gc_test_global = NULL;
    gc_test_collect();
    cr_assert_eq(finalized, 1);
}
