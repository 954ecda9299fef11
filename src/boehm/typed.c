/* Boehm's typed allocation (gc_typed.h) and batch allocation (GC_malloc_many): the layout bitmap
 * only decides between a scanned object and an atomic one. */
#include "boehm/boehm.h"

#include "memwalk/boehm/gc/gc_typed.h"

#include <errno.h>
#include <string.h>

/* The two descriptors: some word may hold a pointer, or none does. */
#define D_POINTERS ((GC_descr)1)
#define D_ATOMIC   ((GC_descr)0)

GC_descr GC_make_descriptor(const GC_word *bm, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (GC_get_bit(bm, i))
            return D_POINTERS;
    return D_ATOMIC;
}

static void *typed(size_t n, GC_descr d)
{
    void *p;

    if (d != D_ATOMIC)
        return GC_malloc(n);
    /* Boehm clears typed objects, atomic ones included. */
    p = GC_malloc_atomic(n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *GC_malloc_explicitly_typed(size_t n, GC_descr d)
{
    return typed(n, d);
}

void *GC_malloc_explicitly_typed_ignore_off_page(size_t n, GC_descr d)
{
    return typed(n, d);
}

void *GC_calloc_explicitly_typed(size_t nelements, size_t size, GC_descr d)
{
    size_t n;

    if (__builtin_mul_overflow(nelements, size, &n))
        return mw__boehm_oom(SIZE_MAX);
    return typed(n, d);
}

/* A list of objects of n bytes linked through their first word (GC_NEXT): about a page of them,
 * at least one. */
void *GC_malloc_many(size_t n)
{
    void *head = NULL, *p;
    size_t k = n < 2048 ? 4096 / (n < sizeof(void *) ? sizeof(void *) : n) : 1;

    if (n < sizeof(void *))
        n = sizeof(void *);
    while (k--) {
        p = GC_malloc(n);
        if (!p)
            break;
        *(void **)p = head;
        head = p;
    }
    return head;
}

void *GC_malloc_stubborn(size_t n)
{
    return GC_malloc(n);
}

void *GC_debug_malloc_stubborn(size_t n, GC_EXTRA_PARAMS)
{
    (void)ra, (void)s, (void)i;
    return GC_malloc(n);
}
