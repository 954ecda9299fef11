/* Gives every region its kind: names first, then ELF headers, thread stack pointers and guards. */
#include "maps/maps_int.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "common/common.h"
#include "common/task.h"

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_anonymous(const mw_region_t *r)
{
    return r->inode == 0 && r->path[0] == '\0';
}

/* A file path that may be a loaded object: a real file, not shared memory. */
static int is_plain_file(const mw_region_t *r)
{
    return r->path[0] == '/' && r->kind == MW_REGION_FILE;
}

static int is_sysv_name(const char *p)
{
    size_t i;

    if (!starts_with(p, "/SYSV"))
        return 0;
    for (i = 5; i < 13; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return p[13] == '\0';
}

static enum mw_region_kind kind_from_name(mw_region_t *r)
{
    const char *p = r->path;

    if (p[0] == '\0')
        return MW_REGION_ANON;
    if (p[0] == '[') {
        if (strcmp(p, "[heap]") == 0)
            return MW_REGION_HEAP;
        if (strcmp(p, "[stack]") == 0)
            return MW_REGION_STACK;
        if (starts_with(p, "[stack:")) {
            /* Kernels before 4.5 named thread stacks [stack:TID]. */
            r->tid = (pid_t)strtol(p + 7, NULL, 10);
            return MW_REGION_THREAD_STACK;
        }
        if (strcmp(p, "[vdso]") == 0)
            return MW_REGION_VDSO;
        if (strcmp(p, "[vvar]") == 0 || starts_with(p, "[vvar_"))
            return MW_REGION_VVAR;
        if (strcmp(p, "[vsyscall]") == 0)
            return MW_REGION_VSYSCALL;
        if (starts_with(p, "[anon_shmem:"))
            return MW_REGION_SHM;
        if (starts_with(p, "[anon:"))
            return MW_REGION_NAMED_ANON;
        return MW_REGION_ANON; /* [uprobes], [io_uring]...: kernel-made anonymous memory */
    }
    if (starts_with(p, "/memfd:") || starts_with(p, "/dev/shm/") || is_sysv_name(p))
        return MW_REGION_SHM;
    if (strcmp(p, "/dev/zero") == 0 && (r->deleted || r->perms[3] == 's'))
        return MW_REGION_SHM; /* MAP_SHARED | MAP_ANONYMOUS */
    return MW_REGION_FILE;
}

static int same_file(const mw_region_t *a, const struct mw__elf_file *f)
{
    return a->inode == f->inode && a->dev_major == f->dev_major && a->dev_minor == f->dev_minor &&
           strcmp(a->path, f->path) == 0;
}

static struct mw__elf_file *file_for(mw_maps_t *m, pid_t pid, const mw_region_t *r)
{
    struct mw__maps_priv *p = m->priv;
    struct mw__elf_file *f;
    size_t i;

    for (i = 0; i < p->nfiles; i++)
        if (same_file(r, p->files[i]))
            return p->files[i];
    if (mw__grow((void **)&p->files, &p->capfiles, p->nfiles + 1, sizeof(*p->files)))
        return NULL;
    f = mw__arena_alloc(&p->arena, sizeof(*f));
    if (!f)
        return NULL;
    memset(f, 0, sizeof(*f));
    f->dev_major = r->dev_major;
    f->dev_minor = r->dev_minor;
    f->inode = r->inode;
    f->path = r->path;
    mw__elf_read(&p->arena, pid, r->start, r->end, r->path, f);
    p->files[p->nfiles++] = f;
    return f;
}

/* The load bias that puts the mapping at r->start for its file offset, or -1 when no PT_LOAD
 * segment covers that offset (the file is mapped as data). */
static int bias_for(const struct mw__elf_file *f, const mw_region_t *r, uintptr_t *bias)
{
    uint64_t pm = (uint64_t)sysconf(_SC_PAGESIZE) - 1;
    size_t i;

    for (i = 0; i < f->nsegs; i++) {
        const struct mw__elf_seg *s = &f->segs[i];
        uint64_t off0 = s->offset & ~pm;
        if ((s->offset & pm) != (s->vaddr & pm))
            continue;
        if (r->offset < off0 || r->offset > s->offset + s->filesz || (r->offset & pm))
            continue;
        *bias = r->start - ((s->vaddr & ~pm) + (r->offset - off0));
        return 0;
    }
    return -1;
}

static int add_obj(mw_maps_t *m, struct mw__elf_file *f, uintptr_t bias)
{
    struct mw__maps_priv *p = m->priv;

    if (mw__grow((void **)&p->objs, &p->capobjs, p->nobjs + 1, sizeof(*p->objs)))
        return -1;
    p->objs[p->nobjs].file = f;
    p->objs[p->nobjs].bias = bias;
    return (int)p->nobjs++;
}

/* Bytes of [lo, hi) that fall in [a, b). */
static uint64_t overlap(uint64_t lo, uint64_t hi, uint64_t a, uint64_t b)
{
    uint64_t x = lo > a ? lo : a, y = hi < b ? hi : b;

    return y > x ? y - x : 0;
}

/* Bytes of [lo, hi) (addresses) of an object in its writable segments' file part (data) and in
 * the zero-filled part past p_filesz (bss). */
static void writable_bytes(const struct mw__elf_obj *o, uintptr_t lo, uintptr_t hi, uint64_t *data,
                           uint64_t *bss)
{
    size_t i;

    *data = *bss = 0;
    for (i = 0; i < o->file->nsegs; i++) {
        const struct mw__elf_seg *s = &o->file->segs[i];
        uint64_t v0 = o->bias + s->vaddr;
        if (!(s->flags & PF_W))
            continue;
        *data += overlap(lo, hi, v0, v0 + s->filesz);
        *bss += overlap(lo, hi, v0 + s->filesz, v0 + s->memsz);
    }
}

/* Kind of the bytes [lo, hi) (addresses) of an object: data vs bss by the writable segments. */
static enum mw_region_kind writable_kind(const struct mw__elf_obj *o, uintptr_t lo, uintptr_t hi,
                                         int anonymous)
{
    uint64_t data, bss, rest;

    writable_bytes(o, lo, hi, &data, &bss);
    rest = (hi - lo) - data - bss;
    if (anonymous) /* the zero pages after the file: bss up to p_vaddr + p_memsz only */
        return bss >= rest + data ? MW_REGION_BSS : MW_REGION_ANON;
    return bss > data ? MW_REGION_BSS : MW_REGION_DATA;
}

/* Which sections main_section considers. */
enum sec_filter { SEC_ANY, SEC_FILE, SEC_ZERO };

/* The section with the most bytes in [lo, hi): of any type, with bytes in the file, or
 * zero-filled (SHT_NOBITS, as .bss). */
static const char *main_section(const struct mw__elf_obj *o, uintptr_t lo, uintptr_t hi,
                                enum sec_filter filter)
{
    const struct mw__elf_file *f = o->file;
    uint64_t best = 0;
    const char *name = NULL;
    size_t i;

    for (i = 0; i < f->nsecs; i++) {
        uint64_t a = o->bias + f->secs[i].addr;
        uint64_t n;
        if ((filter == SEC_FILE && f->secs[i].type == SHT_NOBITS) ||
            (filter == SEC_ZERO && f->secs[i].type != SHT_NOBITS))
            continue;
        n = overlap(lo, hi, a, a + f->secs[i].size);
        if (n > best) {
            best = n;
            name = f->secs[i].name;
        }
    }
    return name;
}

/* The section named for a writable region: the main one of its kind, and when the region holds
 * both initialised and zero-filled data (the page where .data ends and .bss begins), the main
 * one of each joined by '+', in address order: ".data+.bss". */
static const char *writable_section(mw_maps_t *m, const struct mw__elf_obj *o, const mw_region_t *r)
{
    const char *file, *zero;
    uint64_t data, bss;
    size_t n;
    char *s;

    writable_bytes(o, r->start, r->end, &data, &bss);
    file = main_section(o, r->start, r->end, SEC_FILE);
    zero = main_section(o, r->start, r->end, SEC_ZERO);
    if (!data || !bss || !file || !zero) {
        const char *own = r->kind == MW_REGION_BSS ? zero : file;
        return own ? own : main_section(o, r->start, r->end, SEC_ANY);
    }
    n = strlen(file) + 1 + strlen(zero);
    s = mw__arena_alloc(&m->priv->arena, n + 1);
    if (!s)
        return r->kind == MW_REGION_BSS ? zero : file;
    snprintf(s, n + 1, "%s+%s", file, zero);
    return s;
}

static void classify_obj_region(mw_maps_t *m, size_t i)
{
    mw_region_t *r = &m->regions[i];
    const struct mw__elf_obj *o = &m->priv->objs[m->priv->region_obj[i]];

    if (is_anonymous(r) || r->kind == MW_REGION_HEAP) {
        enum mw_region_kind k = writable_kind(o, r->start, r->end, 1);
        if (r->kind != MW_REGION_HEAP)
            r->kind = k;
    } else if (r->perms[2] == 'x') {
        r->kind = MW_REGION_TEXT;
    } else if (r->perms[1] == 'w') {
        r->kind = writable_kind(o, r->start, r->end, 0);
        r->section = writable_section(m, o, r);
        return;
    } else if (r->perms[0] == 'r') {
        r->kind = MW_REGION_RODATA; /* .rodata, .eh_frame, and RELRO after mprotect */
    } else {
        r->kind = MW_REGION_FILE; /* a PROT_NONE hole between segments */
    }
    r->section = main_section(o, r->start, r->end, r->kind == MW_REGION_BSS ? SEC_ZERO : SEC_ANY);
    if (!r->section)
        r->section = main_section(o, r->start, r->end, SEC_ANY);
}

/* Size of our own vDSO image (what [vdso] maps), from its program headers in memory. */
static size_t own_vdso_size(const unsigned char **image)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
    const Elf64_Phdr *ph;
    uint64_t hi = 0, pm = (uint64_t)sysconf(_SC_PAGESIZE) - 1;
    size_t i;

    if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff + eh->e_phnum * sizeof(*ph) > pm)
        return 0;
    ph = (const Elf64_Phdr *)((const unsigned char *)eh + eh->e_phoff);
    for (i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr + ph[i].p_memsz > hi)
            hi = ph[i].p_vaddr + ph[i].p_memsz;
    *image = (const unsigned char *)eh;
    return (size_t)((hi + pm) & ~pm);
}

/* The vDSO is the same image in every process of this kernel: our own copy gives its sections. */
static void classify_vdso(mw_maps_t *m, size_t i)
{
    struct mw__maps_priv *p = m->priv;
    mw_region_t *r = &m->regions[i];
    const unsigned char *image = NULL;
    size_t size = own_vdso_size(&image);
    struct mw__elf_file *f;
    uintptr_t bias;
    int obj;

    if (!size || size != r->end - r->start)
        return;
    if (mw__grow((void **)&p->files, &p->capfiles, p->nfiles + 1, sizeof(*p->files)))
        return;
    f = mw__arena_alloc(&p->arena, sizeof(*f));
    if (!f)
        return;
    memset(f, 0, sizeof(*f));
    f->path = r->path;
    p->files[p->nfiles++] = f;
    if (mw__elf_read_mem(&p->arena, image, size, f) < 0 || bias_for(f, r, &bias) < 0)
        return;
    obj = add_obj(m, f, bias);
    if (obj < 0)
        return;
    p->region_obj[i] = obj;
    r->section = main_section(&p->objs[obj], r->start, r->end, SEC_ANY);
}

/* Groups the mappings of each loaded ELF object and classifies them by its headers. */
static void classify_elf(mw_maps_t *m, pid_t pid)
{
    struct mw__maps_priv *p = m->priv;
    int cur = -1;
    size_t i;

    for (i = 0; i < m->count; i++) {
        mw_region_t *r = &m->regions[i];
        const struct mw__elf_obj *o = cur >= 0 ? &p->objs[cur] : NULL;
        p->region_obj[i] = -1;
        if (is_plain_file(r)) {
            struct mw__elf_file *f;
            uintptr_t bias;
            if (o && same_file(r, o->file) && r->start >= o->bias + o->file->lo &&
                r->end <= o->bias + ((o->file->hi + 4095) & ~(uint64_t)4095)) {
                p->region_obj[i] = cur;
            } else {
                f = file_for(m, pid, r);
                if (!f || !f->ok || bias_for(f, r, &bias) < 0) {
                    /* Not an object (or mapped as data): a plain file, no guessing. */
                    if (f && (f->ok || f->err == -ENOEXEC || f->err == -EINVAL))
                        p->region_obj[i] = -2;
                    cur = -1;
                    continue;
                }
                cur = add_obj(m, f, bias);
                if (cur < 0)
                    continue;
                p->region_obj[i] = cur;
            }
        } else if (o && (is_anonymous(r) || r->kind == MW_REGION_HEAP) &&
                   r->start < o->bias + o->file->hi) {
            p->region_obj[i] = cur;
        } else if (r->kind == MW_REGION_VDSO) {
            classify_vdso(m, i);
            cur = -1;
            continue;
        } else {
            cur = -1;
            continue;
        }
        classify_obj_region(m, i);
    }
}

/* Without ELF headers: a file mapped executable somewhere is taken as an object, its pages split
 * by permission; the anonymous pages right after its writable mapping are its bss. */
static void classify_by_perms(mw_maps_t *m, size_t i)
{
    mw_region_t *r = &m->regions[i];
    size_t j;
    int object = 0;

    if (is_anonymous(r)) {
        const mw_region_t *prev = i > 0 ? &m->regions[i - 1] : NULL;
        if (prev && prev->end == r->start && r->perms[1] == 'w' &&
            (prev->kind == MW_REGION_DATA || prev->kind == MW_REGION_BSS) &&
            !(prev->kind == MW_REGION_BSS && is_anonymous(prev)))
            r->kind = MW_REGION_BSS;
        return;
    }
    if (!is_plain_file(r))
        return;
    for (j = 0; j < m->count && !object; j++)
        object = m->regions[j].perms[2] == 'x' && m->regions[j].inode == r->inode &&
                 strcmp(m->regions[j].path, r->path) == 0;
    if (!object)
        return;
    if (r->perms[2] == 'x')
        r->kind = MW_REGION_TEXT;
    else if (r->perms[1] == 'w')
        r->kind = MW_REGION_DATA;
    else if (r->perms[0] == 'r')
        r->kind = MW_REGION_RODATA;
}

struct thread_sps {
    pid_t pid;
    uintptr_t *sps;
    pid_t *tids;
    size_t n, cap, tcap, unknown;
};

static int take_sp(void *ctx, pid_t tid)
{
    struct thread_sps *t = ctx;
    uintptr_t sp = 0;

    /* A thread on a CPU right now shows "running": it often blocks a moment later. */
    for (int tries = 0; tries < 3; tries++) {
        if (mw__task_sp(t->pid, tid, &sp) != MW__TASK_RUNNING)
            break;
        sched_yield();
    }
    if (!sp) {
        t->unknown++;
        return 0;
    }
    if (mw__grow((void **)&t->sps, &t->cap, t->n + 1, sizeof(*t->sps)) ||
        mw__grow((void **)&t->tids, &t->tcap, t->n + 1, sizeof(*t->tids)))
        return 1;
    t->sps[t->n] = sp;
    t->tids[t->n] = tid;
    t->n++;
    return 0;
}

/* Stack pointers of the process's threads, from /proc/PID/task/TID/syscall (in a system call or
 * blocked outside one). Returns how many threads gave none (on a CPU right now); *nsp gets the
 * pointers found. */
static size_t thread_sps(pid_t pid, uintptr_t **sps, pid_t **tids, size_t *nsp)
{
    struct thread_sps t = {pid, NULL, NULL, 0, 0, 0, 0};

    if (mw__task_each(pid, take_sp, &t) < 0)
        t.unknown = 1;
    *sps = t.sps;
    *tids = t.tids;
    *nsp = t.n;
    return t.unknown;
}

static void classify_threads(mw_maps_t *m, pid_t pid)
{
    uintptr_t *sps;
    pid_t *tids;
    size_t nsp, unknown, i;
    volatile char here = 0;

    unknown = thread_sps(pid, &sps, &tids, &nsp);
    for (i = 0; i < nsp + (pid == 0); i++) {
        /* For ourselves the calling thread is "running": a local variable tells its stack. */
        uintptr_t sp = i < nsp ? sps[i] : (uintptr_t)&here;
        mw_region_t *r = (mw_region_t *)mw_maps_find(m, sp);
        if (!r || r->kind == MW_REGION_STACK || r->kind == MW_REGION_THREAD_STACK)
            continue;
        if (r->kind == MW_REGION_ANON || r->kind == MW_REGION_NAMED_ANON) {
            r->kind = MW_REGION_THREAD_STACK;
            r->tid = i < nsp ? tids[i] : (pid_t)gettid();
        }
    }
    /* Threads whose pointer could not be read (on a CPU at that moment): glibc's layout, an
     * anonymous read-write mapping right above an inaccessible guard mapping. The caller's own
     * file shows its read(), so it never counts here. */
    if (unknown > 0)
        for (i = 1; i < m->count; i++) {
            mw_region_t *r = &m->regions[i], *g = &m->regions[i - 1];
            if (r->kind == MW_REGION_ANON && strcmp(r->perms, "rw-p") == 0 && g->end == r->start &&
                is_anonymous(g) && strcmp(g->perms, "---p") == 0)
                r->kind = MW_REGION_THREAD_STACK;
        }
    free(sps);
    free(tids);
}

static void classify_guards(mw_maps_t *m)
{
    size_t i;

    for (i = 0; i + 1 < m->count; i++) {
        mw_region_t *g = &m->regions[i];
        const mw_region_t *s = &m->regions[i + 1];
        if (is_anonymous(g) && strncmp(g->perms, "---", 3) == 0 && g->end == s->start &&
            (s->kind == MW_REGION_STACK || s->kind == MW_REGION_THREAD_STACK))
            g->kind = MW_REGION_GUARD;
    }
}

/* Inaccessible anonymous memory that is no guard only holds address space: malloc's arenas for
 * threads reserve 64 MiB each and open it up as they grow. */
static void classify_reserved(mw_maps_t *m)
{
    size_t i;

    for (i = 0; i < m->count; i++) {
        mw_region_t *r = &m->regions[i];
        if (r->kind == MW_REGION_ANON && is_anonymous(r) && strncmp(r->perms, "---", 3) == 0)
            r->kind = MW_REGION_RESERVED;
    }
}

void mw__maps_classify(mw_maps_t *m, pid_t pid, unsigned flags)
{
    struct mw__maps_priv *p = m->priv;
    size_t i;

    for (i = 0; i < m->count; i++)
        m->regions[i].kind = kind_from_name(&m->regions[i]);
    if (pid >= 0 && !(flags & MW_MAPS_NO_ELF) &&
        mw__grow((void **)&p->region_obj, &p->region_cap, m->count, sizeof(int)) == 0) {
        classify_elf(m, pid);
        /* Objects whose headers could not be read fall back to permissions. */
        for (i = 0; i < m->count; i++)
            if (p->region_obj[i] == -1 &&
                (m->regions[i].kind == MW_REGION_FILE ||
                 (i > 0 && p->region_obj[i - 1] == -1 && m->regions[i].kind == MW_REGION_ANON)))
                classify_by_perms(m, i);
    } else {
        for (i = 0; i < m->count; i++)
            classify_by_perms(m, i);
    }
    if (pid >= 0)
        classify_threads(m, pid);
    classify_guards(m);
    classify_reserved(m);
}

/* Per-address answers ----------------------------------------------------------------------- */

static const struct mw__elf_obj *obj_of(const mw_maps_t *m, const mw_region_t *r)
{
    size_t i = (size_t)(r - m->regions);

    if (!m->priv || !m->priv->region_obj || i >= m->priv->region_cap || m->priv->region_obj[i] < 0)
        return NULL;
    return &m->priv->objs[m->priv->region_obj[i]];
}

int mw_maps_kind_at(const mw_maps_t *maps, uintptr_t addr)
{
    const mw_region_t *r = maps ? mw_maps_find(maps, addr) : NULL;
    const struct mw__elf_obj *o;

    if (!r)
        return -ENOENT;
    o = obj_of(maps, r);
    if (o && (r->kind == MW_REGION_DATA || r->kind == MW_REGION_BSS ||
              (r->kind == MW_REGION_ANON && is_anonymous(r)) || r->kind == MW_REGION_HEAP)) {
        enum mw_region_kind k = writable_kind(o, addr, addr + 1, is_anonymous(r));
        if (r->kind == MW_REGION_HEAP && k != MW_REGION_BSS)
            return MW_REGION_HEAP;
        /* A file-backed byte past p_memsz still comes from the file. */
        if (!is_anonymous(r) && r->kind != MW_REGION_HEAP)
            return writable_kind(o, addr, addr + 1, 1) == MW_REGION_BSS ? MW_REGION_BSS
                                                                        : MW_REGION_DATA;
        return k;
    }
    return r->kind;
}

const char *mw_maps_object_at(const mw_maps_t *maps, uintptr_t addr)
{
    const mw_region_t *r = maps ? mw_maps_find(maps, addr) : NULL;
    const struct mw__elf_obj *o = r ? obj_of(maps, r) : NULL;

    /* A [heap] that starts inside the last page of an object's image goes on past it. */
    if (!o || addr < o->bias + o->file->lo || addr - o->bias >= o->file->hi)
        return NULL;
    return o->file->path;
}

const char *mw_maps_section_at(const mw_maps_t *maps, uintptr_t addr)
{
    const mw_region_t *r = maps ? mw_maps_find(maps, addr) : NULL;
    const struct mw__elf_obj *o = r ? obj_of(maps, r) : NULL;
    const struct mw__elf_file *f;
    uint64_t v;
    size_t lo = 0, hi, i;

    if (!o)
        return NULL;
    f = o->file;
    v = addr - o->bias;
    /* The last section starting at or below v, then a few before it (sections may nest). */
    hi = f->nsecs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->secs[mid].addr <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (i = lo; i > 0 && lo - i < 8; i--)
        if (v >= f->secs[i - 1].addr && v - f->secs[i - 1].addr < f->secs[i - 1].size)
            return f->secs[i - 1].name;
    return NULL;
}
