/* Reads the program and section headers of a mapped ELF file, bounds-checked (files may lie). */
#include "maps/maps_int.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PHNUM    4096
#define MAX_SHNUM    65536
#define MAX_SHSTRTAB (4u << 20)
#define MAX_SEC_NAME 256

/* Where headers come from: a file, or an image in our own memory (the vDSO). */
struct src {
    int fd;
    const unsigned char *mem;
    uint64_t size;
};

static int read_at(const struct src *src, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    int fd = src->fd;

    if (src->mem) {
        if (off > src->size || len > src->size - off)
            return -EINVAL;
        memcpy(buf, src->mem + off, len);
        return 0;
    }
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EINVAL; /* truncated file */
        done += (size_t)n;
    }
    return 0;
}

/* Opens the file behind a mapping: map_files (works for deleted files, needs privilege), then the
 * process's root (other mount namespaces), then the path as given. */
static int open_mapped(pid_t pid, uintptr_t start, uintptr_t end, const char *path)
{
    char buf[4200];
    int fd;

    if (pid > 0)
        snprintf(buf, sizeof(buf), "/proc/%d/map_files/%lx-%lx", (int)pid, (unsigned long)start,
                 (unsigned long)end);
    else
        snprintf(buf, sizeof(buf), "/proc/self/map_files/%lx-%lx", (unsigned long)start,
                 (unsigned long)end);
    if (start != end) {
        fd = open(buf, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            return fd;
    }
    if (path[0] != '/')
        return -ENOENT;
    if (pid > 0 &&
        (size_t)snprintf(buf, sizeof(buf), "/proc/%d/root%s", (int)pid, path) < sizeof(buf)) {
        fd = open(buf, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            return fd;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

static int cmp_sec(const void *a, const void *b)
{
    const struct mw__elf_sec *x = a, *y = b;

    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    /* Empty sections first, so the one with bytes wins a lookup at the same address. */
    return (x->size > y->size) - (x->size < y->size);
}

static int read_sections(mw__arena_t *arena, const struct src *fd, const Elf64_Ehdr *eh,
                         uint64_t fsize, struct mw__elf_file *f)
{
    Elf64_Shdr *sh = NULL, first;
    uint64_t shnum = eh->e_shnum, shstrndx = eh->e_shstrndx;
    char *names = NULL;
    size_t i, n = 0;
    int r;

    if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr))
        return 0; /* stripped of section headers: segments still work */
    if (shnum == 0 || shstrndx == SHN_XINDEX) {
        r = read_at(fd, &first, sizeof(first), eh->e_shoff);
        if (r)
            return r;
        if (shnum == 0)
            shnum = first.sh_size;
        if (shstrndx == SHN_XINDEX)
            shstrndx = first.sh_link;
    }
    if (shnum == 0 || shnum > MAX_SHNUM || shstrndx >= shnum || eh->e_shoff > fsize ||
        shnum * sizeof(Elf64_Shdr) > fsize - eh->e_shoff)
        return -EINVAL;
    sh = malloc(shnum * sizeof(*sh));
    if (!sh)
        return -ENOMEM;
    r = read_at(fd, sh, shnum * sizeof(*sh), eh->e_shoff);
    if (r)
        goto out;
    if (sh[shstrndx].sh_size > MAX_SHSTRTAB || sh[shstrndx].sh_offset > fsize ||
        sh[shstrndx].sh_size > fsize - sh[shstrndx].sh_offset) {
        r = -EINVAL;
        goto out;
    }
    names = mw__arena_alloc(arena, sh[shstrndx].sh_size + 1);
    f->secs = mw__arena_alloc(arena, shnum * sizeof(*f->secs));
    if (!names || !f->secs) {
        r = -ENOMEM;
        goto out;
    }
    r = read_at(fd, names, sh[shstrndx].sh_size, sh[shstrndx].sh_offset);
    if (r)
        goto out;
    names[sh[shstrndx].sh_size] = '\0';
    for (i = 0; i < shnum; i++) {
        const char *name = "?";
        if (!(sh[i].sh_flags & SHF_ALLOC) || sh[i].sh_addr == 0)
            continue;
        /* .tbss takes no room in the image: its addresses belong to the next sections. */
        if ((sh[i].sh_flags & SHF_TLS) && sh[i].sh_type == SHT_NOBITS)
            continue;
        if (sh[i].sh_addr + sh[i].sh_size < sh[i].sh_addr)
            continue;
        if (sh[i].sh_name < sh[shstrndx].sh_size &&
            strnlen(names + sh[i].sh_name, MAX_SEC_NAME) < MAX_SEC_NAME)
            name = names + sh[i].sh_name;
        f->secs[n].addr = sh[i].sh_addr;
        f->secs[n].size = sh[i].sh_size;
        f->secs[n].flags = sh[i].sh_flags;
        f->secs[n].type = sh[i].sh_type;
        f->secs[n].name = name;
        n++;
    }
    qsort(f->secs, n, sizeof(*f->secs), cmp_sec);
    f->nsecs = n;
out:
    free(sh);
    return r;
}

static int parse_headers(mw__arena_t *arena, const struct src *fd, int64_t fsize,
                         struct mw__elf_file *f)
{
    Elf64_Ehdr eh;
    Elf64_Phdr *ph = NULL;
    size_t i, n = 0;
    int r;

    r = read_at(fd, &eh, sizeof(eh), 0);
    if (r)
        goto out;
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_phnum == 0 || eh.e_phnum > MAX_PHNUM || fsize < 0 || eh.e_phoff > (uint64_t)fsize ||
        (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > (uint64_t)fsize - eh.e_phoff) {
        r = -ENOEXEC;
        goto out;
    }
    ph = malloc(eh.e_phnum * sizeof(*ph));
    f->segs = mw__arena_alloc(arena, eh.e_phnum * sizeof(*f->segs));
    if (!ph || !f->segs) {
        r = -ENOMEM;
        goto out;
    }
    r = read_at(fd, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff);
    if (r)
        goto out;
    f->lo = UINT64_MAX;
    f->hi = 0;
    for (i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
            continue;
        if (ph[i].p_vaddr + ph[i].p_memsz < ph[i].p_vaddr || ph[i].p_filesz > ph[i].p_memsz)
            continue;
        f->segs[n].vaddr = ph[i].p_vaddr;
        f->segs[n].memsz = ph[i].p_memsz;
        f->segs[n].filesz = ph[i].p_filesz;
        f->segs[n].offset = ph[i].p_offset;
        f->segs[n].flags = ph[i].p_flags;
        if (ph[i].p_vaddr < f->lo)
            f->lo = ph[i].p_vaddr;
        if (ph[i].p_vaddr + ph[i].p_memsz > f->hi)
            f->hi = ph[i].p_vaddr + ph[i].p_memsz;
        n++;
    }
    f->nsegs = n;
    if (n == 0) {
        r = -ENOEXEC;
        goto out;
    }
    f->ok = 1;
    /* Missing or damaged section headers only cost the section names. */
    if (read_sections(arena, fd, &eh, (uint64_t)fsize, f) < 0)
        f->nsecs = 0;
    r = 0;
out:
    free(ph);
    f->err = r;
    return r;
}

int mw__elf_read(mw__arena_t *arena, pid_t pid, uintptr_t start, uintptr_t end, const char *path,
                 struct mw__elf_file *f)
{
    struct src src = {.fd = -1};
    int r;

    f->ok = 0;
    src.fd = open_mapped(pid, start, end, path);
    if (src.fd < 0)
        return f->err = src.fd;
    r = parse_headers(arena, &src, lseek(src.fd, 0, SEEK_END), f);
    close(src.fd);
    return r;
}

int mw__elf_read_mem(mw__arena_t *arena, const void *image, size_t size, struct mw__elf_file *f)
{
    struct src src = {.fd = -1, .mem = image, .size = size};

    f->ok = 0;
    return parse_headers(arena, &src, (int64_t)size, f);
}
