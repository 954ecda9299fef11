/* Boehm's allocation calls on memwalk's: the extra byte at the end, realloc's and free's Boehm
 * rules, aligned memory, the questions about objects, the GC_DEBUG forms. */
#include "boehm/boehm.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

int mw__boehm_extra = 1;

/* Requests this large fail at once (Boehm's limit is about the same): no size arithmetic below
 * can wrap, and no collection is spent on a request the OS cannot meet. */
#define TOO_BIG ((SIZE_MAX >> 1) - ((size_t)1 << 20))

void *GC_malloc(size_t n)
{
    if (BOEHM_UNLIKELY(n >= TOO_BIG))
        return mw__boehm_oom(n);
    return mw_gc_malloc(n + (size_t)mw__boehm_extra);
}

void *GC_malloc_atomic(size_t n)
{
    if (BOEHM_UNLIKELY(n >= TOO_BIG))
        return mw__boehm_oom(n);
    return mw_gc_malloc_atomic(n + (size_t)mw__boehm_extra);
}

/* Uncollectable objects need no extra byte: a pointer past the end cannot lose them. */
void *GC_malloc_uncollectable(size_t n)
{
    if (BOEHM_UNLIKELY(n >= TOO_BIG))
        return mw__boehm_oom(n);
    return mw_gc_malloc_uncollectable(n);
}

void *GC_malloc_atomic_uncollectable(size_t n)
{
    if (BOEHM_UNLIKELY(n >= TOO_BIG))
        return mw__boehm_oom(n);
    return mw_gc_malloc_atomic_uncollectable(n);
}

/* The ignore-off-page forms: for a large object, only pointers into its first page keep it (the
 * program keeps one there), so stale words into the rest of it cannot. */
static void *off_page(size_t n, int atomic)
{
    if (BOEHM_UNLIKELY(n >= TOO_BIG))
        return mw__boehm_oom(n);
    n += (size_t)mw__boehm_extra;
    return atomic ? mw_gc_malloc_atomic_ignore_off_page(n) : mw_gc_malloc_ignore_off_page(n);
}

void *GC_malloc_ignore_off_page(size_t n)
{
    return off_page(n, 0);
}

void *GC_malloc_atomic_ignore_off_page(size_t n)
{
    return off_page(n, 1);
}

void *GC_realloc(void *p, size_t n)
{
    if (!p)
        return GC_malloc(n);
    if (n == 0) {
        GC_free(p);
        return NULL;
    }
    if (BOEHM_UNLIKELY(n >= TOO_BIG))
        return mw__boehm_oom(n);
    return mw_gc_realloc(p, n + (size_t)mw__boehm_extra);
}

void GC_free(void *p)
{
    void *base;

    if (!p)
        return;
    /* Boehm trusts the pointer; a pointer the collector does not know (freed already, never
     * allocated by it) is ignored, and one into an object (GC_memalign's) frees that object. */
    base = mw_gc_base(p);
    if (base)
        mw_gc_free(base);
}

char *GC_strdup(const char *s)
{
    return s ? GC_strndup(s, SIZE_MAX) : NULL;
}

char *GC_strndup(const char *s, size_t n)
{
    size_t len;
    char *d;

    if (!s)
        return NULL;
    len = strnlen(s, n);
    d = GC_malloc_atomic(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

void *GC_memalign(size_t align, size_t n)
{
    uintptr_t p;

    if (align <= 16)
        return GC_malloc(n); /* every object is 16-byte aligned */
    if (align & (align - 1)) {
        errno = EINVAL;
        return NULL;
    }
    if (n >= TOO_BIG || align >= TOO_BIG - n)
        return mw__boehm_oom(n);
    /* Large objects start on a page: often aligned already. */
    p = (uintptr_t)GC_malloc(n);
    if (!p || (p & (align - 1)) == 0)
        return (void *)p;
    GC_free((void *)p);
    p = (uintptr_t)GC_malloc(n + align - 1);
    if (!p)
        return NULL;
    /* The result points into its object, which keeps it alive, as with Boehm's GC_memalign. */
    return (void *)((p + align - 1) & ~(uintptr_t)(align - 1));
}

int GC_posix_memalign(void **memptr, size_t align, size_t n)
{
    void *p;

    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    p = GC_memalign(align, n);
    if (!p)
        return ENOMEM;
    *memptr = p;
    return 0;
}

void *GC_base(void *p)
{
    return mw_gc_base(p);
}

int GC_is_heap_ptr(const void *p)
{
    return mw_gc_base(p) != NULL;
}

size_t GC_size(const void *p)
{
    return mw_gc_size(p);
}

void *GC_same_obj(void *p, void *q)
{
    void *base = mw_gc_base(p);

    if (base && mw_gc_base(q) != base)
        mw__boehm_fatal("GC_same_obj: the two pointers are not in the same object");
    return p;
}

void *GC_is_visible(void *p)
{
    return p;
}

void *GC_is_valid_displacement(void *p)
{
    return p;
}

void GC_register_displacement(size_t offset)
{
    (void)offset;
}

void GC_debug_register_displacement(size_t offset)
{
    (void)offset;
}

void GC_set_all_interior_pointers(int value)
{
    mw__boehm_extra = value ? 1 : 0;
}

int GC_get_all_interior_pointers(void)
{
    /* Interior pointers are always recognised; the setting only decides the extra byte. */
    return 1;
}

void GC_change_stubborn(const void *p)
{
    (void)p;
}

void GC_end_stubborn_change(const void *p)
{
    (void)p;
}

void GC_ptr_store_and_dirty(void *p, const void *q)
{
    *(const void **)p = q;
}

void GC_noop1(GC_word x)
{
    __asm__ volatile("" : : "r"(x) : "memory");
}

void GC_noop1_ptr(volatile void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

/* ---- GC_DEBUG: the same objects; the caller's file and line are not kept ------------------- */

void *GC_debug_malloc(size_t n, GC_EXTRA_PARAMS)
{
    (void)ra, (void)s, (void)i;
    return GC_malloc(n);
}

void *GC_debug_malloc_atomic(size_t n, GC_EXTRA_PARAMS)
{
    (void)ra, (void)s, (void)i;
    return GC_malloc_atomic(n);
}

void *GC_debug_malloc_uncollectable(size_t n, GC_EXTRA_PARAMS)
{
    (void)ra, (void)s, (void)i;
    return GC_malloc_uncollectable(n);
}

void *GC_debug_malloc_atomic_uncollectable(size_t n, GC_EXTRA_PARAMS)
{
    (void)ra, (void)s, (void)i;
    return GC_malloc_atomic_uncollectable(n);
}

void *GC_debug_malloc_ignore_off_page(size_t n, GC_EXTRA_PARAMS)
{
    (void)ra, (void)s, (void)i;
    return GC_malloc_ignore_off_page(n);
}

void *GC_debug_malloc_atomic_ignore_off_page(size_t n, GC_EXTRA_PARAMS)
{
    (void)ra, (void)s, (void)i;
    return GC_malloc_atomic_ignore_off_page(n);
}

void *GC_debug_realloc(void *p, size_t n, GC_EXTRA_PARAMS)
{
    (void)ra, (void)s, (void)i;
    return GC_realloc(p, n);
}

void GC_debug_free(void *p)
{
    GC_free(p);
}

char *GC_debug_strdup(const char *str, GC_EXTRA_PARAMS)
{
    (void)ra, (void)s, (void)i;
    return GC_strdup(str);
}

char *GC_debug_strndup(const char *str, size_t n, GC_EXTRA_PARAMS)
{
    (void)ra, (void)s, (void)i;
    return GC_strndup(str, n);
}

void GC_debug_change_stubborn(const void *p)
{
    (void)p;
}

void GC_debug_end_stubborn_change(const void *p)
{
    (void)p;
}

void GC_debug_ptr_store_and_dirty(void *p, const void *q)
{
    *(const void **)p = q;
}

void *GC_debug_malloc_replacement(size_t n)
{
    return GC_malloc(n);
}

void *GC_debug_realloc_replacement(void *p, size_t n)
{
    return GC_realloc(p, n);
}
