/* Helpers of the Boehm layer's tests: they build against memwalk's <gc.h> (-Iinclude/memwalk/boehm)
 * and link with libmemwalk-boehm.so, as a Boehm program would. */
#ifndef MW_TEST_BOEHM_H
#define MW_TEST_BOEHM_H

#include <gc.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define HELPER   __attribute__((noinline, unused))

/* Collects after clearing the dead part of the stack (stale copies of addresses would keep
 * objects alive: a conservative collector's way). */
HELPER static void bt_collect(void)
{
    volatile char buf[64 * 1024];
    memset((char *)buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
    GC_gcollect();
}

__attribute__((unused)) static void bt_count_fin(void *obj, void *cd)
{
    (void)obj;
    ++*(volatile int *)cd;
}

#endif
