/* What an address inside a loaded object is, read from the object file's section headers and
 * symbol table (no libdw: these are ELF's own tables): the data symbol holding it, the section
 * kind memcheck names, the function it is in. Files are read once and kept; every offset and
 * length read from a file is checked against the file. */
#include "cli/leaks_errors.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct sect {
    uint64_t addr, size;
    const char *kind; /* memcheck's word, or NULL */
};

struct sym {
    uint64_t value, size;
    const char *name;
    int is_func;
};

struct obj {
    char *path;
    unsigned char *map; /* the file, mapped */
    size_t len;
    struct sect *sects;
    size_t nsects;
    struct sym *syms;
    size_t nsyms;
};

static struct obj *objs;
static size_t nobjs;

static const char *kind_of(const char *name)
{
    static const struct {
        const char *name, *kind;
    } k[] = {{".text", "Text"}, {".data", "Data"},      {".sdata", "Data"},
             {".bss", "BSS"},   {".sbss", "BSS"},       {".plt", "PLT"},
             {".got", "GOT"},   {".got.plt", "GOTPLT"}, {".opd", "OPD"}};
    size_t i;

    for (i = 0; i < sizeof k / sizeof k[0]; i++)
        if (strcmp(name, k[i].name) == 0)
            return k[i].kind;
    return NULL;
}

/* A NUL-terminated string at off in [base, base + len), or NULL. */
static const char *str_at(const unsigned char *base, size_t len, uint64_t off)
{
    if (off >= len || !memchr(base + off, '\0', len - off))
        return NULL;
    return (const char *)base + off;
}

static void load_symbols(struct obj *o, const Elf64_Shdr *sh, size_t nsh, uint32_t type)
{
    size_t i, k;

    for (i = 0; i < nsh; i++) {
        const Elf64_Shdr *s = &sh[i], *strs;
        size_t n;
        if (s->sh_type != type || s->sh_entsize != sizeof(Elf64_Sym) || s->sh_link >= nsh)
            continue;
        strs = &sh[s->sh_link];
        if (s->sh_offset > o->len || s->sh_size > o->len - s->sh_offset ||
            strs->sh_offset > o->len || strs->sh_size > o->len - strs->sh_offset)
            continue;
        n = s->sh_size / sizeof(Elf64_Sym);
        o->syms = calloc(n + 1, sizeof *o->syms);
        if (!o->syms)
            return;
        for (k = 0; k < n; k++) {
            Elf64_Sym y;
            const char *name;
            int t;
            memcpy(&y, o->map + s->sh_offset + k * sizeof y, sizeof y);
            t = ELF64_ST_TYPE(y.st_info);
            if (y.st_shndx == SHN_UNDEF || y.st_size == 0 ||
                (t != STT_OBJECT && t != STT_FUNC && t != STT_TLS && t != STT_NOTYPE &&
                 t != STT_GNU_IFUNC))
                continue;
            name = str_at(o->map + strs->sh_offset, strs->sh_size, y.st_name);
            if (!name || !*name)
                continue;
            o->syms[o->nsyms].value = y.st_value;
            o->syms[o->nsyms].size = y.st_size;
            o->syms[o->nsyms].name = name;
            o->syms[o->nsyms].is_func = t == STT_FUNC || t == STT_GNU_IFUNC;
            o->nsyms++;
        }
        return;
    }
}

static int load(struct obj *o)
{
    int fd = open(o->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    Elf64_Ehdr eh;
    const Elf64_Shdr *sh;
    const unsigned char *names = NULL;
    size_t i, nsh, names_len = 0;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof eh) {
        close(fd);
        return -1;
    }
    o->len = (size_t)st.st_size;
    o->map = mmap(NULL, o->len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (o->map == MAP_FAILED) {
        o->map = NULL;
        return -1;
    }
    memcpy(&eh, o->map, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > o->len ||
        (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > o->len - eh.e_shoff || eh.e_shoff % 8 != 0)
        return -1;
    sh = (const Elf64_Shdr *)(o->map + eh.e_shoff);
    nsh = eh.e_shnum;
    if (eh.e_shstrndx < nsh && sh[eh.e_shstrndx].sh_offset <= o->len &&
        sh[eh.e_shstrndx].sh_size <= o->len - sh[eh.e_shstrndx].sh_offset) {
        names = o->map + sh[eh.e_shstrndx].sh_offset;
        names_len = sh[eh.e_shstrndx].sh_size;
    }
    o->sects = calloc(nsh + 1, sizeof *o->sects);
    if (!o->sects)
        return -1;
    for (i = 0; i < nsh; i++) {
        const char *name = names ? str_at(names, names_len, sh[i].sh_name) : NULL;
        if (!(sh[i].sh_flags & SHF_ALLOC) || !name)
            continue;
        o->sects[o->nsects].addr = sh[i].sh_addr;
        o->sects[o->nsects].size = sh[i].sh_size;
        o->sects[o->nsects].kind = kind_of(name);
        o->nsects++;
    }
    /* memcheck reads the full symbol table; the dynamic one when the file was stripped. */
    load_symbols(o, sh, nsh, SHT_SYMTAB);
    if (!o->nsyms)
        load_symbols(o, sh, nsh, SHT_DYNSYM);
    return 0;
}

static struct obj *get(const char *path)
{
    size_t i;
    struct obj *n;

    if (!path || path[0] != '/')
        return NULL;
    for (i = 0; i < nobjs; i++)
        if (strcmp(objs[i].path, path) == 0)
            return objs[i].map ? &objs[i] : NULL;
    n = realloc(objs, (nobjs + 1) * sizeof *objs);
    if (!n)
        return NULL;
    objs = n;
    memset(&objs[nobjs], 0, sizeof objs[0]);
    objs[nobjs].path = strdup(path);
    if (!objs[nobjs].path)
        return NULL;
    if (load(&objs[nobjs]) < 0) {
        if (objs[nobjs].map)
            munmap(objs[nobjs].map, objs[nobjs].len);
        objs[nobjs].map = NULL;
        free(objs[nobjs].sects);
        free(objs[nobjs].syms);
        objs[nobjs].sects = NULL;
        objs[nobjs].syms = NULL;
        objs[nobjs].nsects = objs[nobjs].nsyms = 0;
    }
    nobjs++;
    return objs[nobjs - 1].map ? &objs[nobjs - 1] : NULL;
}

const char *lk_obj_datasym(const char *path, uint64_t a, uint64_t *off)
{
    struct obj *o = get(path);
    size_t i;

    for (i = 0; o && i < o->nsyms; i++)
        if (!o->syms[i].is_func && a >= o->syms[i].value &&
            a - o->syms[i].value < o->syms[i].size) {
            *off = a - o->syms[i].value;
            return o->syms[i].name;
        }
    return NULL;
}

const char *lk_obj_sectkind(const char *path, uint64_t a)
{
    struct obj *o = get(path);
    size_t i;

    for (i = 0; o && i < o->nsects; i++)
        if (a >= o->sects[i].addr && a - o->sects[i].addr < o->sects[i].size)
            return o->sects[i].kind;
    return NULL;
}

uint64_t lk_obj_func_start(const char *path, uint64_t a)
{
    struct obj *o = get(path);
    size_t i;

    for (i = 0; o && i < o->nsyms; i++)
        if (o->syms[i].is_func && a >= o->syms[i].value && a - o->syms[i].value < o->syms[i].size)
            return o->syms[i].value;
    return 0;
}

void lk_obj_forget(void)
{
    size_t i;

    for (i = 0; i < nobjs; i++) {
        if (objs[i].map)
            munmap(objs[i].map, objs[i].len);
        free(objs[i].sects);
        free(objs[i].syms);
        free(objs[i].path);
    }
    free(objs);
    objs = NULL;
    nobjs = 0;
}
