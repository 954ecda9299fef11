/* The bootstrap pool: dlsym allocates while the tracer looks up the real allocator, so those
 * first calls (and any made before the lookup completes) are served from this static array.
 * It is never reused; free() and realloc() recognise its addresses. */
#include "leak/leak.h"

#include <string.h>

char mw__pool[MW__POOL_SIZE] __attribute__((aligned(64)));
static size_t pool_used;

void *mw__pool_alloc(size_t n, size_t align)
{
    size_t start, end, old;

    if (align < 16)
        align = 16;
    if (n > MW__POOL_SIZE || align > MW__POOL_SIZE)
        return NULL;
    do {
        old = __atomic_load_n(&pool_used, __ATOMIC_RELAXED);
        start = (old + 16 + align - 1) & ~(align - 1);
        end = start + n;
        if (end > MW__POOL_SIZE)
            return NULL;
    } while (
        !__atomic_compare_exchange_n(&pool_used, &old, end, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    memcpy(mw__pool + start - 8, &n, sizeof n);
    return mw__pool + start;
}

size_t mw__pool_size(const void *p)
{
    size_t n;

    memcpy(&n, (const char *)p - 8, sizeof n);
    return n;
}
