/* Helpers shared by the collector's tests: a clean stack before collecting, finalizer counters.
 *
 * A conservative collector keeps an object alive when any stale copy of its address is left in
 * a dead stack slot that a later frame does not overwrite. Tests that expect an object to be
 * collected therefore allocate it in a separate noinline function and zero a large stretch of the
 * stack below the caller before collecting, so the outcome never depends on stack leftovers. */
#ifndef MW_TEST_GC_H
#define MW_TEST_GC_H

#include <memwalk/gc.h>
#include <stdint.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define HELPER   __attribute__((noinline, unused))

HELPER static void gc_test_clear_stack(void)
{
    volatile char buf[64 * 1024];
    memset((char *)buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

/* Collects after clearing the dead part of the stack. */
HELPER static void gc_test_collect(void)
{
    gc_test_clear_stack();
    mw_gc_collect();
}

/* Counts finalizer calls; ctx points at the counter to bump. */
__attribute__((unused)) static void gc_test_count_fin(void *obj, void *ctx)
{
    (void)obj;
    ++*(volatile int *)ctx;
}

/* Hides a pointer from the collector (and the compiler) by storing it complemented. */
static inline uintptr_t gc_test_hide(const void *p)
{
    return ~(uintptr_t)p;
}

static inline void *gc_test_unhide(uintptr_t h)
{
    return (void *)~h;
}

/* A 64-byte object holding 1234 whose finalizer bumps *fin, returned hidden: only the caller
 * holds it, once it unhides it. */
HELPER static uintptr_t gc_test_tracked(volatile int *fin)
{
    long *p = mw_gc_malloc(64);
    p[0] = 1234;
    mw_gc_set_finalizer(p, gc_test_count_fin, (void *)fin);
    return gc_test_hide(p);
}

#endif
