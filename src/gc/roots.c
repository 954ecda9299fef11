/* Root ranges the program registers itself (memory the collector would not scan otherwise). */
#include "gc/gc_internal.h"

#include <errno.h>

int mw_gc_add_roots(void *start, size_t len)
{
    struct mw__gc_vec *v = &mw__gc.roots;
    uintptr_t lo = (uintptr_t)start;
    int r = 0;

    if (!start || !len || lo + len < lo)
        return -EINVAL;
    mw__gc_me();
    mw__gc_lock();
    if (mw__gc_vec_reserve(v, sizeof(struct mw__gc_mse), v->len + 1) < 0) {
        r = -ENOMEM;
    } else {
        MW__GC_VEC_AT(v, struct mw__gc_mse, v->len).lo = lo;
        MW__GC_VEC_AT(v, struct mw__gc_mse, v->len).hi = lo + len;
        v->len++;
    }
    mw__gc_unlock();
    return r;
}

int mw_gc_remove_roots(void *start, size_t len)
{
    struct mw__gc_vec *v = &mw__gc.roots;
    uintptr_t lo = (uintptr_t)start, hi = lo + len;
    size_t i, j;
    int found = 0;

    if (hi < lo)
        hi = UINTPTR_MAX;
    mw__gc_me();
    mw__gc_lock();
    for (i = j = 0; i < v->len; i++) {
        struct mw__gc_mse r = MW__GC_VEC_AT(v, struct mw__gc_mse, i);
        if (r.lo >= lo && r.hi <= hi) {
            found = 1;
            continue;
        }
        MW__GC_VEC_AT(v, struct mw__gc_mse, j++) = r;
    }
    v->len = j;
    mw__gc_unlock();
    return found ? 0 : -ENOENT;
}
