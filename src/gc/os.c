/* The collector's seam to the OS: aligned mappings, giving pages back, labels, the chunk table,
 * growable arrays in mmap'd memory, messages. */
#include "gc/gc_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif
#ifndef PR_SET_VMA_ANON_NAME
#define PR_SET_VMA_ANON_NAME 0
#endif

void *mw__gc_os_map(size_t size, size_t align)
{
    void *p;
    uintptr_t a, lo;

    /* No MAP_NORESERVE: memory the kernel cannot promise is refused now (NULL, ENOMEM), not
     * paid for later with the OOM killer. */
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (align <= MW__GC_PAGE || ((uintptr_t)p & (align - 1)) == 0)
        return p;
    /* Not aligned: map size + align and cut the ends off. */
    munmap(p, size);
    p = mmap(NULL, size + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    lo = (uintptr_t)p;
    a = (lo + align - 1) & ~(uintptr_t)(align - 1);
    if (a > lo)
        munmap(p, a - lo);
    if (lo + align > a)
        munmap((void *)(a + size), lo + align - a);
    return (void *)a;
}

void mw__gc_os_unmap(void *p, size_t size)
{
    munmap(p, size);
}

void mw__gc_os_release(void *p, size_t size)
{
    /* The pages read as zero afterwards: the allocator relies on that (MW__GC_ZEROED). */
    if (madvise(p, size, MADV_DONTNEED) != 0)
        memset(p, 0, size);
}

void mw__gc_os_reserve(void *p, size_t size)
{
    /* A fresh mapping on top drops the pages; PROT_NONE and no reserve: only address space. */
    if (mmap(p, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) ==
        MAP_FAILED)
        mw__gc_os_release(p, size);
}

void mw__gc_os_label(void *p, size_t size)
{
    /* Kernels without CONFIG_ANON_VMA_NAME answer EINVAL: the label is only a courtesy. */
    int saved = errno;
    (void)prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, (unsigned long)size,
                (unsigned long)"memwalk-gc");
    errno = saved;
}

int mw__gc_vec_reserve(struct mw__gc_vec *v, size_t elem, size_t n)
{
    size_t cap, bytes, old;
    void *p;

    if (n <= v->cap)
        return 0;
    cap = v->cap ? v->cap : (4096 / elem > 0 ? 4096 / elem : 1);
    while (cap < n)
        cap *= 2;
    bytes = (cap * elem + MW__GC_PAGE - 1) & ~(MW__GC_PAGE - 1);
    cap = bytes / elem;
    if (!v->data) {
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    } else {
        old = (v->cap * elem + MW__GC_PAGE - 1) & ~(MW__GC_PAGE - 1);
        p = mremap(v->data, old, bytes, MREMAP_MAYMOVE);
    }
    if (p == MAP_FAILED)
        return -ENOMEM;
    v->data = p;
    v->cap = cap;
    return 0;
}

void mw__gc_vec_free(struct mw__gc_vec *v, size_t elem)
{
    if (v->data)
        munmap(v->data, (v->cap * elem + MW__GC_PAGE - 1) & ~(MW__GC_PAGE - 1));
    v->data = NULL;
    v->cap = v->len = 0;
}

/* Points every 4 MiB window of [lo, lo + size) at entry; a huge mapping's entries also say how
 * many of the window's pages it covers, so mw__gc_heap_contains never reads a chunk. */
int mw__gc_table_set(uintptr_t lo, size_t size, uintptr_t entry)
{
    uintptr_t w, end = lo + size;

    for (w = lo & ~(MW__GC_CHUNK - 1); w < end; w += MW__GC_CHUNK) {
        size_t i1 = w >> MW__GC_L1_SHIFT;
        uintptr_t *l2 = mw__gc.l1[i1], e = entry;
        if (!l2) {
            l2 = mmap(NULL, MW__GC_L2_SIZE * sizeof(uintptr_t), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (l2 == MAP_FAILED)
                return -ENOMEM;
            __atomic_store_n(&mw__gc.l1[i1], l2, __ATOMIC_RELEASE);
        }
        if (entry & MW__GC_ENTRY_HUGE) {
            uintptr_t wend = w + MW__GC_CHUNK < end ? w + MW__GC_CHUNK : end;
            e = (entry & ~(MW__GC_CHUNK - 1)) | MW__GC_ENTRY_HUGE |
                (((wend - w) >> MW__GC_PAGE_SHIFT) << 1);
        }
        __atomic_store_n(&l2[(w >> MW__GC_CHUNK_SHIFT) & (MW__GC_L2_SIZE - 1)], e,
                         __ATOMIC_RELEASE);
    }
    if (!mw__gc.heap_lo || lo < mw__gc.heap_lo)
        mw__gc.heap_lo = lo;
    if (end > mw__gc.heap_hi)
        mw__gc.heap_hi = end;
    return 0;
}

void mw__gc_table_clear(uintptr_t lo, size_t size)
{
    uintptr_t w, end = lo + size;

    for (w = lo & ~(MW__GC_CHUNK - 1); w < end; w += MW__GC_CHUNK) {
        uintptr_t *l2 = mw__gc.l1[w >> MW__GC_L1_SHIFT];
        if (l2)
            __atomic_store_n(&l2[(w >> MW__GC_CHUNK_SHIFT) & (MW__GC_L2_SIZE - 1)], 0,
                             __ATOMIC_RELEASE);
    }
}

int mw__gc_heap_contains(const void *addr)
{
    uintptr_t v = (uintptr_t)addr, e, *l2;

    if (v >> MW__GC_ADDR_BITS)
        return 0;
    l2 = __atomic_load_n(&mw__gc.l1[v >> MW__GC_L1_SHIFT], __ATOMIC_ACQUIRE);
    if (!l2)
        return 0;
    e = __atomic_load_n(&l2[(v >> MW__GC_CHUNK_SHIFT) & (MW__GC_L2_SIZE - 1)], __ATOMIC_ACQUIRE);
    if (!e)
        return 0;
    if (e & MW__GC_ENTRY_HUGE)
        return ((v >> MW__GC_PAGE_SHIFT) & (MW__GC_CHUNK_PAGES - 1)) <
               ((e >> 1) & (2 * MW__GC_CHUNK_PAGES - 1));
    return 1;
}

uint64_t mw__gc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Writes "memwalk gc: PREFIXmessage" and a newline to stderr, without stdio: it may run while
 * other threads are stopped, one of them holding stderr's lock. */
static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
    char buf[512];
    int n;

    n = snprintf(buf, sizeof buf, "memwalk gc: %s", prefix);
    n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    (void)!write(2, buf, (size_t)n);
}

void mw__gc_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage("fatal: ", fmt, ap);
    va_end(ap);
    abort();
}

void mw__gc_warn(const char *fmt, ...)
{
    mw_gc_warn_fn handler = __atomic_load_n(&mw__gc_warn_handler, __ATOMIC_ACQUIRE);
    va_list ap;

    va_start(ap, fmt);
    if (handler) {
        char buf[512];
        vsnprintf(buf, sizeof buf, fmt, ap);
        handler(buf);
    } else {
        vmessage("", fmt, ap);
    }
    va_end(ap);
}
