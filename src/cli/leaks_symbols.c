/* Symbolization of the tracer's raw instruction pointers, in the memwalk process: function,
 * file:line and inlined frames from DWARF (elfutils libdw), the ELF symbol table when there is
 * no DWARF, and module+offset when nothing is known. Results are cached per address. */
#include "cli/leaks_int.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#ifdef MW_HAVE_LIBDW
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#endif

#define MAX_INLINE 16

struct cached {
    uint64_t ip;
    int first;
    size_t n;
    struct lk_frame f[MAX_INLINE];
};

struct lk_sym {
    const struct lk_module *mods;
    size_t nmods;
    struct cached *cache;
    size_t cap, used;
    char **strings; /* every string handed out, freed at the end */
    size_t nstrings, strings_cap;
    int *has_debug; /* per module: -1 unknown, 0, 1 */
#ifdef MW_HAVE_LIBDW
    Dwfl *dwfl;
    Dwfl_Callbacks cb;
    char *debuginfo_path;
#endif
};

static const char *keep(lk_sym_t *s, const char *str)
{
    char *c;

    if (!str)
        return NULL;
    if (s->nstrings == s->strings_cap) {
        size_t ncap = s->strings_cap ? s->strings_cap * 2 : 64;
        char **n = realloc(s->strings, ncap * sizeof *n);
        if (!n)
            return NULL;
        s->strings = n;
        s->strings_cap = ncap;
    }
    c = strdup(str);
    if (c)
        s->strings[s->nstrings++] = c;
    return c;
}

/* C++ names read as memcheck prints them ("make()", "std::vector<int>::push_back(int&&)"):
 * libstdc++'s demangler, loaded on first need so that memwalk does not link libstdc++. */
MW__UNUSED static const char *demangle(lk_sym_t *s, const char *name)
{
    static char *(*cxa_demangle)(const char *, char *, size_t *, int *);
    static int tried;
    char *d;
    const char *kept;
    int status = -1;

    if (!name || name[0] != '_' || name[1] != 'Z')
        return keep(s, name);
    if (!tried) {
        void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
        tried = 1;
        if (h)
            *(void **)&cxa_demangle = dlsym(h, "__cxa_demangle");
    }
    if (!cxa_demangle)
        return keep(s, name);
    d = cxa_demangle(name, NULL, NULL, &status);
    if (status != 0 || !d) {
        free(d);
        return keep(s, name);
    }
    kept = keep(s, d);
    free(d);
    return kept;
}

MW__UNUSED static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');

    return b ? b + 1 : path;
}

lk_sym_t *lk_sym_new(const struct lk_module *mods, size_t n)
{
    lk_sym_t *s = calloc(1, sizeof *s);
    size_t i;

    if (!s)
        return NULL;
    s->mods = mods;
    s->nmods = n;
    s->has_debug = malloc((n + 1) * sizeof(int));
    if (!s->has_debug) {
        free(s);
        return NULL;
    }
    for (i = 0; i < n; i++)
        s->has_debug[i] = -1;
#ifdef MW_HAVE_LIBDW
    s->cb.find_elf = dwfl_build_id_find_elf;
    s->cb.find_debuginfo = dwfl_standard_find_debuginfo;
    s->cb.section_address = dwfl_offline_section_address;
    s->cb.debuginfo_path = &s->debuginfo_path;
    s->dwfl = dwfl_begin(&s->cb);
    if (s->dwfl) {
        dwfl_report_begin(s->dwfl);
        for (i = 0; i < n; i++) {
            size_t j;
            int overlaps = 0;
            /* The vdso and other objects without a file cannot be opened: skip them. */
            if (mods[i].path[0] != '/')
                continue;
            /* An object unloaded and loaded again at the same place is listed twice: libdw
             * drops both when told twice, so the first one alone is reported. */
            for (j = 0; j < i && !overlaps; j++)
                overlaps =
                    mods[j].path[0] == '/' && mods[j].lo < mods[i].hi && mods[i].lo < mods[j].hi;
            if (overlaps)
                continue;
            dwfl_report_elf(s->dwfl, base_name(mods[i].path), mods[i].path, -1, mods[i].bias,
                            false);
        }
        dwfl_report_end(s->dwfl, NULL, NULL);
    }
#endif
    return s;
}

static const struct lk_module *module_of(const lk_sym_t *s, uint64_t ip, size_t *idx)
{
    size_t i;

    for (i = 0; i < s->nmods; i++)
        if (ip >= s->mods[i].lo && ip < s->mods[i].hi) {
            *idx = i;
            return &s->mods[i];
        }
    return NULL;
}

#ifdef MW_HAVE_LIBDW
static const char *die_name(lk_sym_t *s, Dwarf_Die *die)
{
    Dwarf_Attribute a;
    const char *name;

    /* The linkage name, demangled, says what memcheck says for C++ ("make()"); C functions
     * have only their plain name. */
    name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
    if (!name)
        name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
    if (!name)
        name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
    return demangle(s, name);
}

/* The compile unit containing addr. libdw's own lookup needs address ranges that clang's
 * DWARF 5 output does not always give it: then every unit is asked. */
static Dwarf_Die *find_cu(Dwfl_Module *m, Dwarf_Addr addr, Dwarf_Addr *bias, Dwarf_Die *buf)
{
    Dwarf_Die *cu = dwfl_module_addrdie(m, addr, bias);
    Dwarf *dw;
    Dwarf_Off off = 0, next;
    size_t hsize;

    if (cu)
        return cu;
    dw = dwfl_module_getdwarf(m, bias);
    if (!dw)
        return NULL;
    while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        if (dwarf_offdie(dw, off + hsize, buf) && dwarf_haspc(buf, addr - *bias) > 0)
            return buf;
        off = next;
    }
    return NULL;
}

/* Frames for addr in module m (DWARF present): innermost inlined function first. */
static size_t dwarf_frames(lk_sym_t *s, Dwfl_Module *m, Dwarf_Addr addr, struct lk_frame *out,
                           size_t max, const struct lk_frame *tmpl)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die cubuf, *cu = find_cu(m, addr, &bias, &cubuf), *scopes = NULL;
    Dwfl_Line *line = dwfl_module_getsrc(m, addr);
    const char *file = NULL;
    int lineno = 0, nscopes, i;
    size_t n = 0;
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;

    if (!cu)
        return 0;
    if (line) {
        file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
    } else {
        Dwarf_Line *l = dwarf_getsrc_die(cu, addr - bias);
        if (l) {
            file = dwarf_linesrc(l, NULL, NULL);
            if (dwarf_lineno(l, &lineno) != 0)
                lineno = 0;
        }
    }
    nscopes = dwarf_getscopes(cu, addr - bias, &scopes);
    if (nscopes <= 0) {
        free(scopes);
        return 0;
    }
    /* The innermost function scope, then the chain of its concrete parents: the inlined
     * callers up to the real function. */
    for (i = 0; i < nscopes; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram)
            break;
    }
    if (i == nscopes) {
        free(scopes);
        return 0;
    }
    {
        Dwarf_Die inner = scopes[i];
        free(scopes);
        scopes = NULL;
        nscopes = dwarf_getscopes_die(&inner, &scopes);
        if (nscopes <= 0) {
            free(scopes);
            return 0;
        }
    }
    dwarf_getsrcfiles(cu, &files, &nfiles);
    for (i = 0; i < nscopes && n < max; i++) {
        Dwarf_Die *d = &scopes[i];
        int tag = dwarf_tag(d);
        Dwarf_Attribute a;
        Dwarf_Word cf, cl;
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
            continue;
        out[n] = *tmpl;
        out[n].fn = die_name(s, d);
        if (tag == DW_TAG_subprogram) {
            /* The real function: its symbol, as memcheck names it ("make()" for a static C++
             * function, which has no linkage name in DWARF). */
            GElf_Off off;
            GElf_Sym sym;
            const char *name = dwfl_module_addrinfo(m, addr, &off, &sym, NULL, NULL, NULL);
            if (name)
                out[n].fn = demangle(s, name);
        }
        out[n].file = file ? keep(s, base_name(file)) : NULL;
        out[n].line = lineno;
        n++;
        if (tag == DW_TAG_subprogram)
            break;
        /* The caller's location is this inlined call's call site. */
        file = NULL;
        lineno = 0;
        if (dwarf_formudata(dwarf_attr(d, DW_AT_call_file, &a), &cf) == 0 && files)
            file = dwarf_filesrc(files, cf, NULL, NULL);
        if (dwarf_formudata(dwarf_attr(d, DW_AT_call_line, &a), &cl) == 0)
            lineno = (int)cl;
    }
    free(scopes);
    return n;
}
#endif

static size_t describe(lk_sym_t *s, uint64_t ip, int first, struct lk_frame *out, size_t max)
{
    size_t idx = 0, n = 0;
    const struct lk_module *mod = module_of(s, ip, &idx);
    struct lk_frame t;
    uint64_t addr = first ? ip : ip - 1; /* a return address: look at the call */

    memset(&t, 0, sizeof t);
    t.ip = ip;
    if (!mod) {
        out[0] = t;
        return 1;
    }
    t.module = mod->path;
    t.offset = ip - mod->bias;
#ifdef MW_HAVE_LIBDW
    if (s->dwfl) {
        Dwfl_Module *m = dwfl_addrmodule(s->dwfl, addr);
        if (m) {
            Dwarf_Addr b;
            if (s->has_debug[idx] < 0)
                s->has_debug[idx] = dwfl_module_getdwarf(m, &b) != NULL;
            t.has_debug = s->has_debug[idx];
            if (t.has_debug)
                n = dwarf_frames(s, m, addr, out, max, &t);
            if (n == 0) {
                GElf_Off off;
                GElf_Sym sym;
                const char *name = dwfl_module_addrinfo(m, addr, &off, &sym, NULL, NULL, NULL);
                Dwfl_Line *line = dwfl_module_getsrc(m, addr);
                out[0] = t;
                out[0].fn = demangle(s, name);
                if (line) {
                    int lineno = 0;
                    const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
                    if (file) {
                        out[0].file = keep(s, base_name(file));
                        out[0].line = lineno;
                    }
                }
                n = 1;
            }
            return n;
        }
    }
#else
    (void)addr;
    (void)max;
    (void)n;
#endif
    s->has_debug[idx] = 0;
    out[0] = t;
    return 1;
}

size_t lk_sym_lookup(lk_sym_t *s, uint64_t ip, int first, struct lk_frame *out, size_t max)
{
    size_t h, n, i;
    struct cached *c;

    if (max > MAX_INLINE)
        max = MAX_INLINE;
    if (s->used * 2 >= s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        struct cached *nc = calloc(ncap, sizeof *nc);
        if (nc) {
            for (i = 0; i < s->cap; i++) {
                if (!s->cache[i].n)
                    continue;
                h = (s->cache[i].ip * 0x9E3779B97F4A7C15ull + (uint64_t)s->cache[i].first) &
                    (ncap - 1);
                while (nc[h].n)
                    h = (h + 1) & (ncap - 1);
                nc[h] = s->cache[i];
            }
            free(s->cache);
            s->cache = nc;
            s->cap = ncap;
        }
    }
    if (s->cap) {
        h = (ip * 0x9E3779B97F4A7C15ull + (uint64_t)first) & (s->cap - 1);
        for (; s->cache[h].n; h = (h + 1) & (s->cap - 1))
            if (s->cache[h].ip == ip && s->cache[h].first == first) {
                n = s->cache[h].n < max ? s->cache[h].n : max;
                memcpy(out, s->cache[h].f, n * sizeof *out);
                return n;
            }
        c = &s->cache[h];
        c->ip = ip;
        c->first = first;
        c->n = describe(s, ip, first, c->f, MAX_INLINE);
        s->used++;
        n = c->n < max ? c->n : max;
        memcpy(out, c->f, n * sizeof *out);
        return n;
    }
    return describe(s, ip, first, out, max);
}

void lk_sym_free(lk_sym_t *s)
{
    size_t i;

    if (!s)
        return;
#ifdef MW_HAVE_LIBDW
    if (s->dwfl)
        dwfl_end(s->dwfl);
#endif
    for (i = 0; i < s->nstrings; i++)
        free(s->strings[i]);
    free(s->strings);
    free(s->cache);
    free(s->has_debug);
    free(s);
}
