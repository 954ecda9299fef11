/* MW_SHOW and MW_DIFF: describe an address of the calling process from a cached, validated map. */
#include "memwalk/show.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "maps/maps_int.h"

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static mw_maps_t cache;
static int cache_valid;
static int query_fd = -1;
static pid_t query_pid;
static int query_missing; /* the kernel has no PROCMAP_QUERY */

void mw_show_reset(void)
{
    pthread_mutex_lock(&cache_lock);
    mw_maps_free(&cache);
    cache_valid = 0;
    pthread_mutex_unlock(&cache_lock);
}

/* Checks the cached region for addr against the kernel's current VMA. Returns 1 when the cache
 * still holds, 0 when it must be read again, -ENOENT when nothing is mapped at addr. */
static int cache_holds(uintptr_t addr, const mw_region_t *r)
{
    mw_region_t now;
    int rc;

    if (query_missing)
        return r != NULL;
    if (query_fd < 0 || query_pid != getpid()) {
        /* A /proc/self file opened before fork() still describes the parent. */
        if (query_fd >= 0)
            close(query_fd);
        query_fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
        query_pid = getpid();
        if (query_fd < 0)
            return r != NULL;
    }
    /* Start, end, permissions and inode tell a changed region; the name is not needed. */
    rc = mw__maps_procmap_query(query_fd, addr, 0, &now, NULL, 0);
    if (rc == -EINVAL || rc == -ENOTTY) {
        query_missing = 1;
        return r != NULL;
    }
    if (rc == -ENOENT)
        return addr >= 0xffffffffff600000ull && r ? 1 : -ENOENT; /* [vsyscall]: no VMA */
    if (rc < 0)
        return r != NULL;
    return r && r->start == now.start && r->end == now.end && r->inode == now.inode &&
           memcmp(r->perms, now.perms, 4) == 0;
}

/* With cache_lock held: the region for addr from a map known to be current. */
static const mw_region_t *lookup(uintptr_t addr, int *err)
{
    const mw_region_t *r = cache_valid ? mw_maps_find(&cache, addr) : NULL;
    int holds = cache_valid ? cache_holds(addr, r) : 0;
    mw_maps_t fresh;

    if (holds == -ENOENT) {
        *err = -ENOENT;
        return NULL;
    }
    if (holds == 1)
        return r;
    *err = mw_maps_read(0, 0, &fresh);
    if (*err)
        return NULL;
    mw_maps_free(&cache);
    cache = fresh;
    cache_valid = 1;
    r = mw_maps_find(&cache, addr);
    if (!r)
        *err = -ENOENT;
    return r;
}

/* mw_show_describe, and in obj (when not NULL) what the memory is when it has no path of its
 * own: the object whose .bss it is, or "[anon]". */
static int describe(const void *addr, mw_show_info_t *out, char *obj, size_t objlen)
{
    uintptr_t a = (uintptr_t)addr;
    const mw_region_t *r;
    const char *sec, *owner;
    int err = 0, kind;

    if (!out)
        return -EINVAL;
    pthread_mutex_lock(&cache_lock);
    r = lookup(a, &err);
    if (!r) {
        pthread_mutex_unlock(&cache_lock);
        return err ? err : -ENOENT;
    }
    memset(out, 0, sizeof(*out));
    out->addr = a;
    kind = mw_maps_kind_at(&cache, a);
    out->kind = mw_region_kind_name(kind < 0 ? r->kind : (enum mw_region_kind)kind);
    /* Memory another allocator registered (the collector's chunks: "gc-heap"). */
    const char *heap = mw__heap_kind_at(addr);
    if (heap)
        out->kind = heap;
    sec = mw_maps_section_at(&cache, a);
    if (sec)
        snprintf(out->section, sizeof(out->section), "%s", sec);
    out->start = r->start;
    out->end = r->end;
    memcpy(out->perms, r->perms, sizeof(out->perms));
    out->deleted = r->deleted;
    snprintf(out->path, sizeof(out->path), "%s", r->path);
    if (obj && objlen) {
        owner = r->path[0] ? NULL : mw_maps_object_at(&cache, a);
        snprintf(obj, objlen, "%s", r->path[0] ? "" : owner ? owner : "[anon]");
    }
    pthread_mutex_unlock(&cache_lock);
    return 0;
}

int mw_show_describe(const void *addr, mw_show_info_t *out)
{
    return describe(addr, out, NULL, 0);
}

int mw_show_format(const char *label, const void *addr, char *buf, size_t len)
{
    /* The path, or what the memory is when it has none: its object for a .bss past the file,
     * [anon] for the rest. */
    struct {
        mw_show_info_t info;
        char what[sizeof(((mw_show_info_t *)0)->path)];
    } *d = NULL;
    char small[1];
    const char *where;
    int rc, n;

    if (!buf || len == 0) {
        buf = small;
        len = sizeof(small);
    }
    if (!label)
        label = "?";
    /* 8 KiB of paths: keep them off small thread stacks. */
    d = malloc(sizeof(*d));
    rc = d ? describe(addr, &d->info, d->what, sizeof(d->what)) : -ENOMEM;
    if (rc == -ENOENT) {
        n = snprintf(buf, len, "%s: 0x%lx %lu unmapped", label, (unsigned long)addr,
                     (unsigned long)addr);
    } else if (rc < 0) {
        n = snprintf(buf, len, "%s: 0x%lx %lu ?", label, (unsigned long)addr, (unsigned long)addr);
    } else {
        where = d->info.path[0] ? d->info.path : d->what;
        n = snprintf(buf, len, "%s: 0x%lx %lu %s%s%s%s%s%s", label, (unsigned long)addr,
                     (unsigned long)addr, d->info.kind, d->info.section[0] ? " " : "",
                     d->info.section, where[0] ? " " : "", where,
                     d->info.deleted ? " (deleted)" : "");
    }
    free(d);
    return n;
}

void mw_show_print(const char *label, const void *addr)
{
    char line[512];
    int n = mw_show_format(label, addr, line, sizeof(line));
    char *big = NULL;

    if (n >= (int)sizeof(line)) {
        big = malloc((size_t)n + 1);
        if (big)
            mw_show_format(label, addr, big, (size_t)n + 1);
    }
    flockfile(stdout);
    fputs(big ? big : line, stdout);
    fputc('\n', stdout);
    funlockfile(stdout);
    free(big);
}

void mw_show_diff(const char *label_a, const void *a, const char *label_b, const void *b)
{
    long long d = (long long)((intptr_t)b - (intptr_t)a);

    printf("%s - %s: 0x%lx - 0x%lx = %lld byte%s\n", label_b ? label_b : "?",
           label_a ? label_a : "?", (unsigned long)b, (unsigned long)a, d,
           (d == 1 || d == -1) ? "" : "s");
}
