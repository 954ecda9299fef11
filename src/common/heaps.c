/* The heaps of other allocators: how MW_SHOW learns which memory the collector owns without
 * depending on it (the collector registers; src/maps asks). */
#include "common/common.h"

#include <errno.h>
#include <stdbool.h>

struct heap {
    int claimed;                       /* the slot is taken (set once) */
    const char *kind;                  /* written before contains is published */
    int (*contains)(const void *addr); /* NULL until the slot is ready */
};

static struct heap heaps[MW__HEAPS_MAX];

int mw__heap_register(const char *kind, int (*contains)(const void *addr))
{
    if (!kind || !contains)
        return -EINVAL;
    for (size_t i = 0; i < MW__HEAPS_MAX; i++) {
        int expected = 0;
        if (__atomic_load_n(&heaps[i].contains, __ATOMIC_ACQUIRE) == contains)
            return 0;
        if (!__atomic_compare_exchange_n(&heaps[i].claimed, &expected, 1, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        heaps[i].kind = kind;
        __atomic_store_n(&heaps[i].contains, contains, __ATOMIC_RELEASE);
        return 0;
    }
    return -ENOSPC;
}

const char *mw__heap_kind_at(const void *addr)
{
    for (size_t i = 0; i < MW__HEAPS_MAX; i++) {
        int (*contains)(const void *) = __atomic_load_n(&heaps[i].contains, __ATOMIC_ACQUIRE);
        if (contains && contains(addr) == 1)
            return heaps[i].kind;
    }
    return NULL;
}
