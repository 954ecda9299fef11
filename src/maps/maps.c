/* mw_maps_read/parse/find/query/free: a process's regions from /proc, and single lookups. */
#include "maps/maps_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/common.h"

/* PROCMAP_QUERY (Linux 6.11, include/uapi/linux/fs.h): Debian 12's headers predate it. */
struct mw__procmap_query {
    uint64_t size;
    uint64_t query_flags;
    uint64_t query_addr;
    uint64_t vma_start;
    uint64_t vma_end;
    uint64_t vma_flags;
    uint64_t vma_page_size;
    uint64_t vma_offset;
    uint64_t inode;
    uint32_t dev_major;
    uint32_t dev_minor;
    uint32_t vma_name_size;
    uint32_t build_id_size;
    uint64_t vma_name_addr;
    uint64_t build_id_addr;
};
#define MW__PROCMAP_QUERY _IOWR('f', 17, struct mw__procmap_query)
enum {
    MW__PQ_READABLE = 0x01,
    MW__PQ_WRITABLE = 0x02,
    MW__PQ_EXECUTABLE = 0x04,
    MW__PQ_SHARED = 0x08,
    MW__PQ_COVERING_OR_NEXT = 0x10,
};

/* The x86-64 legacy vsyscall page: in maps, but no VMA, so PROCMAP_QUERY never reports it. */
#define VSYSCALL_ADDR 0xffffffffff600000ull

static const char *const kind_names[MW_REGION_KIND_COUNT] = {
    [MW_REGION_TEXT] = "text",
    [MW_REGION_RODATA] = "rodata",
    [MW_REGION_DATA] = "data",
    [MW_REGION_BSS] = "bss",
    [MW_REGION_HEAP] = "heap",
    [MW_REGION_STACK] = "stack",
    [MW_REGION_THREAD_STACK] = "thread-stack",
    [MW_REGION_ANON] = "anon",
    [MW_REGION_FILE] = "file",
    [MW_REGION_VDSO] = "vdso",
    [MW_REGION_VVAR] = "vvar",
    [MW_REGION_VSYSCALL] = "vsyscall",
    [MW_REGION_NAMED_ANON] = "named-anon",
    [MW_REGION_SHM] = "shm",
    [MW_REGION_GUARD] = "guard",
    [MW_REGION_RESERVED] = "reserved",
};

const char *mw_region_kind_name(enum mw_region_kind kind)
{
    if ((unsigned)kind >= MW_REGION_KIND_COUNT)
        return "?";
    return kind_names[kind];
}

void mw_maps_free(mw_maps_t *maps)
{
    if (!maps)
        return;
    mw__maps_free_regions(maps);
    if (maps->priv) {
        mw__arena_free(&maps->priv->arena);
        free(maps->priv->files);
        free(maps->priv->objs);
        free(maps->priv->region_obj);
        free(maps->priv->keys);
        free(maps->priv);
    }
    memset(maps, 0, sizeof(*maps));
}

const mw_region_t *mw_maps_find(const mw_maps_t *maps, uintptr_t addr)
{
    size_t lo = 0, hi;

    if (!maps)
        return NULL;
    hi = maps->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const mw_region_t *r = &maps->regions[mid];
        if (addr < r->start)
            hi = mid;
        else if (addr >= r->end)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

int mw_maps_parse(const char *text, size_t len, unsigned flags, mw_maps_t *out, size_t *bad_line)
{
    mw_maps_t m;
    int r;

    if (!text || !out)
        return -EINVAL;
    r = mw__maps_parse_text(text, len, flags & (MW_MAPS_SMAPS | MW_MAPS_NO_FIELDS), &m, bad_line);
    if (r)
        return r;
    mw__maps_classify(&m, -1, flags);
    *out = m;
    return 0;
}

static void proc_path(char *buf, size_t len, pid_t pid, const char *file)
{
    if (pid == 0)
        snprintf(buf, len, "/proc/self/%s", file);
    else
        snprintf(buf, len, "/proc/%d/%s", (int)pid, file);
}

int mw_maps_read(pid_t pid, unsigned flags, mw_maps_t *out)
{
    unsigned parse;
    char path[64];
    mw_maps_t m;
    int fd, r;

    if (pid < 0 || !out)
        return -EINVAL;
    if (pid == getpid())
        pid = 0;
    proc_path(path, sizeof(path), pid, (flags & MW_MAPS_SMAPS) ? "smaps" : "maps");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    /* Our own map read by a helper thread would show that thread's stack; our own map is the
     * one MW_SHOW keeps, another process's is mostly read for a moment. */
    parse = flags & (MW_MAPS_SMAPS | MW_MAPS_NO_FIELDS);
    if (pid)
        parse |= (flags & MW_MAPS_READ_AHEAD) | MW__MAPS_TRANSIENT;
    r = mw__maps_parse_fd(fd, parse, &m, NULL);
    close(fd);
    if (r)
        return r == -ESRCH || r == -EACCES || r == -EPERM || r == -ENOMEM ? r : -EINVAL;
    if (m.count == 0) {
        /* A zombie (or a kernel thread) has no user memory left to show. */
        mw_maps_free(&m);
        return -ESRCH;
    }
    m.pid = pid ? pid : getpid();
    mw__maps_classify(&m, pid, flags);
    *out = m;
    return 0;
}

/* The slow path: the whole map, then the one region. */
static int query_by_text(pid_t pid, uintptr_t addr, mw_maps_t *out)
{
    mw_maps_t all;
    const mw_region_t *r;
    size_t idx;
    int rc = mw_maps_read(pid, 0, &all);

    if (rc)
        return rc;
    r = mw_maps_find(&all, addr);
    if (!r) {
        mw_maps_free(&all);
        return -ENOENT;
    }
    /* Keep only that region; its strings and ELF facts stay in the arena it shares. */
    idx = (size_t)(r - all.regions);
    all.regions[0] = all.regions[idx];
    if (all.priv->region_obj)
        all.priv->region_obj[0] = all.priv->region_obj[idx];
    all.count = 1;
    *out = all;
    return 0;
}

int mw__maps_procmap_query(int fd, uintptr_t addr, unsigned qflags, mw_region_t *reg, char *name,
                           size_t name_len)
{
    struct mw__procmap_query q;

    memset(&q, 0, sizeof(q));
    q.size = sizeof(q);
    q.query_flags = qflags;
    q.query_addr = addr;
    if (name && name_len) {
        q.vma_name_addr = (uint64_t)(uintptr_t)name;
        q.vma_name_size = (uint32_t)name_len;
        name[0] = '\0';
    }
    if (ioctl(fd, MW__PROCMAP_QUERY, &q) < 0)
        return -errno;
    memset(reg, 0, sizeof(*reg));
    reg->start = (uintptr_t)q.vma_start;
    reg->end = (uintptr_t)q.vma_end;
    reg->perms[0] = (q.vma_flags & MW__PQ_READABLE) ? 'r' : '-';
    reg->perms[1] = (q.vma_flags & MW__PQ_WRITABLE) ? 'w' : '-';
    reg->perms[2] = (q.vma_flags & MW__PQ_EXECUTABLE) ? 'x' : '-';
    reg->perms[3] = (q.vma_flags & MW__PQ_SHARED) ? 's' : 'p';
    reg->offset = q.vma_offset;
    reg->dev_major = q.dev_major;
    reg->dev_minor = q.dev_minor;
    reg->inode = q.inode;
    if (name && name_len && q.vma_name_size == 0)
        name[0] = '\0';
    return 0;
}

int mw_maps_query(pid_t pid, uintptr_t addr, mw_maps_t *out_maps)
{
    char path[64], *name, *text;
    mw_region_t reg;
    mw__sb_t sb = {0};
    mw_maps_t m;
    int fd, rc;

    if (pid < 0 || !out_maps)
        return -EINVAL;
    if (pid == getpid())
        pid = 0;
    proc_path(path, sizeof(path), pid, "maps");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    name = malloc(PATH_MAX + 64);
    if (!name) {
        close(fd);
        return -ENOMEM;
    }
    rc = mw__maps_procmap_query(fd, addr, 0, &reg, name, PATH_MAX + 64);
    close(fd);
    if (rc == -ENOENT && (uint64_t)addr >= VSYSCALL_ADDR)
        rc = -ENOTTY; /* the vsyscall page is in the text only */
    if (rc == -ENOENT) {
        free(name);
        return -ENOENT;
    }
    /* Anonymous memory needs its neighbours to tell bss tails, thread stacks and guards apart,
     * and an old kernel has no ioctl: both take the text. */
    if (rc < 0 || (reg.inode == 0 && name[0] == '\0')) {
        free(name);
        return query_by_text(pid, addr, out_maps);
    }
    mw__sb_printf(&sb, "%lx-%lx %s %08llx %02x:%02x %llu ", (unsigned long)reg.start,
                  (unsigned long)reg.end, reg.perms, (unsigned long long)reg.offset, reg.dev_major,
                  reg.dev_minor, (unsigned long long)reg.inode);
    mw__sb_path(&sb, name); /* as the maps text has it: the parser reads it back */
    free(name);
    if (sb.err)
        return sb.err;
    text = mw__sb_take(&sb);
    rc = mw__maps_parse_text(text, strlen(text), 0, &m, NULL);
    free(text);
    if (rc)
        return rc;
    m.pid = pid ? pid : getpid();
    mw__maps_classify(&m, pid, 0);
    *out_maps = m;
    return 0;
}
