/* Symbolization of the tracer's raw instruction pointers, in the memwalk process, the way
 * memcheck names frames: the function from the ELF symbol table (of the aliases of one
 * address, the one memcheck would pick), inlined calls and file:line from DWARF (elfutils
 * libdw), module+offset when nothing is known.
 *
 * Everything is lazy: an object is opened only when one of its addresses is asked for, its
 * DWARF (often compressed, megabytes for libc) only when a printed frame needs a line, and
 * every answer is kept per build-id in the symbol cache, so that the next run of the same
 * program asks libdw nothing. Each object gets a libdw session of its own: objects that
 * replaced one another at the same address (dlclose, dlopen) never collide. */
#include "cli/leaks_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef MW_HAVE_LIBDW
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

/* libdw is loaded on first need, not linked: a run whose frames all come from the symbol cache
 * (or that prints none) does not pay for loading it and its libraries, and memwalk still runs,
 * printing module+offset, where libdw is not installed. Below, each function of libdw used in
 * this file names a pointer filled by dw_load(). */
/* clang-format off */
#define DW_FUNCS(X) \
    X(dwfl_begin) \
    X(dwfl_end) \
    X(dwfl_report_begin) \
    X(dwfl_report_elf) \
    X(dwfl_report_end) \
    X(dwfl_build_id_find_elf) \
    X(dwfl_standard_find_debuginfo) \
    X(dwfl_build_id_find_debuginfo) \
    X(dwfl_offline_section_address) \
    X(dwfl_module_getdwarf) \
    X(dwfl_module_getsymtab) \
    X(dwfl_module_getsym_info) \
    X(dwfl_module_addrdie) \
    X(dwfl_module_getsrc) \
    X(dwfl_lineinfo) \
    X(dwarf_nextcu) \
    X(dwarf_offdie) \
    X(dwarf_haspc) \
    X(dwarf_getsrc_die) \
    X(dwarf_linesrc) \
    X(dwarf_lineno) \
    X(dwarf_getscopes) \
    X(dwarf_getscopes_die) \
    X(dwarf_tag) \
    X(dwarf_getsrcfiles) \
    X(dwarf_diename) \
    X(dwarf_formstring) \
    X(dwarf_attr_integrate) \
    X(dwarf_formudata) \
    X(dwarf_attr) \
    X(dwarf_filesrc)
/* clang-format on */

#define DW_POINTER(f) static __typeof__(f) *dw_##f;
DW_FUNCS(DW_POINTER)
#undef DW_POINTER

/* Returns 1 when libdw is there, 0 when it is not (asked once). */
static int dw_load(void)
{
    static int state; /* 0 not tried, 1 loaded, -1 missing */
    void *h;

    if (state)
        return state > 0;
    state = -1;
    h = dlopen("libdw.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!h)
        return 0;
#define DW_RESOLVE(f)                 \
    *(void **)&dw_##f = dlsym(h, #f); \
    if (!dw_##f)                      \
        return 0;
    DW_FUNCS(DW_RESOLVE)
#undef DW_RESOLVE
    state = 1;
    return 1;
}

#define dwfl_begin                   (*dw_dwfl_begin)
#define dwfl_end                     (*dw_dwfl_end)
#define dwfl_report_begin            (*dw_dwfl_report_begin)
#define dwfl_report_elf              (*dw_dwfl_report_elf)
#define dwfl_report_end              (*dw_dwfl_report_end)
#define dwfl_build_id_find_elf       (*dw_dwfl_build_id_find_elf)
#define dwfl_standard_find_debuginfo (*dw_dwfl_standard_find_debuginfo)
#define dwfl_build_id_find_debuginfo (*dw_dwfl_build_id_find_debuginfo)
#define dwfl_offline_section_address (*dw_dwfl_offline_section_address)
#define dwfl_module_getdwarf         (*dw_dwfl_module_getdwarf)
#define dwfl_module_getsymtab        (*dw_dwfl_module_getsymtab)
#define dwfl_module_getsym_info      (*dw_dwfl_module_getsym_info)
#define dwfl_module_addrdie          (*dw_dwfl_module_addrdie)
#define dwfl_module_getsrc           (*dw_dwfl_module_getsrc)
#define dwfl_lineinfo                (*dw_dwfl_lineinfo)
#define dwarf_nextcu                 (*dw_dwarf_nextcu)
#define dwarf_offdie                 (*dw_dwarf_offdie)
#define dwarf_haspc                  (*dw_dwarf_haspc)
#define dwarf_getsrc_die             (*dw_dwarf_getsrc_die)
#define dwarf_linesrc                (*dw_dwarf_linesrc)
#define dwarf_lineno                 (*dw_dwarf_lineno)
#define dwarf_getscopes              (*dw_dwarf_getscopes)
#define dwarf_getscopes_die          (*dw_dwarf_getscopes_die)
#define dwarf_tag                    (*dw_dwarf_tag)
#define dwarf_getsrcfiles            (*dw_dwarf_getsrcfiles)
#define dwarf_diename                (*dw_dwarf_diename)
#define dwarf_formstring             (*dw_dwarf_formstring)
#define dwarf_attr_integrate         (*dw_dwarf_attr_integrate)
#define dwarf_formudata              (*dw_dwarf_formudata)
#define dwarf_attr                   (*dw_dwarf_attr)
#define dwarf_filesrc                (*dw_dwarf_filesrc)
#endif

#define MAX_INLINE 16
#define BELOW_MAIN "(below main)"

/* One function of the symbol table: [lo, hi) in file addresses, and memcheck's name for it. */
struct symrange {
    uint64_t lo, hi;
    const char *raw;
};

struct mod {
    const struct lk_module *m;
    char *name;    /* the path printed and matched by obj: lines; NULL until asked */
    int probed;    /* 1: elf is valid; -1: the file cannot be read */
    int has_debug; /* -1 unknown (a debuginfod server may have it), 0, 1 */
    struct lk_elf_info elf;
    lk_symcache_t *cache;
    struct symrange *syms;
    size_t nsyms;
    int syms_tried;
#ifdef MW_HAVE_LIBDW
    Dwfl *dwfl;
    Dwfl_Module *dm;
    int dwfl_tried, dwarf_tried, dwarf_ok;
#endif
};

struct memo {
    uint64_t key; /* ip * 4 + first * 2 + symbol_only, plus one (0: empty) */
    size_t n;
    struct lk_frame *f;
};

struct lk_sym {
    struct mod *mods;
    size_t nmods;
    const char *cache_dir;
    struct memo *memo;
    size_t cap, used;
    char **strings; /* every string handed out, freed at the end */
    size_t nstrings, strings_cap;
#ifdef MW_HAVE_LIBDW
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
        return name;
    if (!tried) {
        void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
        tried = 1;
        if (h)
            *(void **)&cxa_demangle = dlsym(h, "__cxa_demangle");
    }
    if (!cxa_demangle)
        return name;
    d = cxa_demangle(name, NULL, NULL, &status);
    if (status != 0 || !d) {
        free(d);
        return name;
    }
    kept = keep(s, d);
    free(d);
    return kept ? kept : name;
}

MW__UNUSED static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');

    return b ? b + 1 : path;
}

/* Names a frame's function from its raw symbol name, as memcheck does: the start-up code
 * below main becomes "(below main)" for printing and for suppressions alike. */
MW__UNUSED static void set_fn(lk_sym_t *s, struct lk_frame *f, const char *raw)
{
    f->kind = lk_fn_kind(raw);
    if (f->kind == LK_FN_BELOW_MAIN) {
        f->fn = f->fn_raw = BELOW_MAIN;
        return;
    }
    f->fn_raw = keep(s, raw);
    f->fn = demangle(s, f->fn_raw);
}

lk_sym_t *lk_sym_new(const struct lk_module *mods, size_t n, const char *cache_dir)
{
    lk_sym_t *s = calloc(1, sizeof *s);
    size_t i;

    if (!s)
        return NULL;
    s->mods = calloc(n + 1, sizeof *s->mods);
    if (!s->mods) {
        free(s);
        return NULL;
    }
    s->nmods = n;
    s->cache_dir = cache_dir;
    for (i = 0; i < n; i++) {
        s->mods[i].m = &mods[i];
        s->mods[i].has_debug = -1;
    }
    return s;
}

static struct mod *mod_of(lk_sym_t *s, uint64_t ip, size_t *idx)
{
    size_t i;

    for (i = 0; i < s->nmods; i++)
        if (ip >= s->mods[i].m->lo && ip < s->mods[i].m->hi) {
            *idx = i;
            return &s->mods[i];
        }
    return NULL;
}

/* The path as the kernel names the mapping (and memcheck prints it): symbolic links resolved,
 * so /lib/x86_64-linux-gnu/libc.so.6 reads /usr/lib/x86_64-linux-gnu/libc.so.6. */
static const char *mod_name(struct mod *md)
{
    if (!md->name) {
        char *r = md->m->path[0] == '/' ? realpath(md->m->path, NULL) : NULL;
        md->name = r ? r : strdup(md->m->path);
    }
    return md->name ? md->name : md->m->path;
}

const char *lk_sym_module_name(lk_sym_t *s, size_t i)
{
    return i < s->nmods ? mod_name(&s->mods[i]) : NULL;
}

/* This memwalk's own build-id (its version when it has none). */
static const char *tool_id(void)
{
    static char id[2 * sizeof((struct lk_elf_info *)0)->build_id + 1];
    struct lk_elf_info e;

    if (!id[0]) {
        if (lk_elf_probe("/proc/self/exe", &e) == 0 && e.build_id_len)
            lk_hex(e.build_id, e.build_id_len, id);
        else
            snprintf(id, sizeof id, "memwalk-%s", MW_VERSION_STRING);
    }
    return id;
}

/* Reads the object's build-id and where its debug information is; opens its cache. */
static void mod_probe(lk_sym_t *s, struct mod *md)
{
    char sig[PATH_MAX + 64], hex[2 * sizeof md->elf.build_id + 1];
    int r;

    if (md->probed)
        return;
    md->probed = -1;
    if (md->m->path[0] != '/' || lk_elf_probe(md->m->path, &md->elf) < 0) {
        md->has_debug = 0;
        return;
    }
    md->probed = 1;
    r = lk_debug_signature(md->m->path, &md->elf, sig, sizeof sig);
    if (r < 0)
        return; /* has_debug stays unknown: libdw will tell */
    md->has_debug = strcmp(sig, "none") != 0;
    if (s->cache_dir && md->elf.build_id_len) {
        char full[sizeof sig + 2 * sizeof md->elf.build_id + 2];
        /* Entries hold for this build of memwalk only: a rebuilt symbolizer asks again. */
        snprintf(full, sizeof full, "%s %s", tool_id(), sig);
        lk_hex(md->elf.build_id, md->elf.build_id_len, hex);
        md->cache = lk_symcache_open(s->cache_dir, hex, full, md->has_debug);
    }
}

/* ---- the symbol table, with memcheck's choice among aliases -------------------------------- */
MW__UNUSED static int cmp_range(const void *a, const void *b)
{
    const struct symrange *x = a, *y = b;

    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return 0;
}

/* As memcheck canonicalises a symbol table: functions with the same range are one function
 * known by its preferred name; of overlapping ranges, the earlier one ends where the next
 * begins, and of two starting together the longer one starts where the shorter ends. */
MW__UNUSED static size_t canonicalise(struct symrange *v, size_t n)
{
    int changed = 1, rounds;
    size_t r, w, i;

    for (rounds = 0; changed && rounds < 16; rounds++) {
        qsort(v, n, sizeof *v, cmp_range);
        for (r = 0, w = 0; r < n; r++) {
            if (w > 0 && v[w - 1].lo == v[r].lo && v[w - 1].hi == v[r].hi) {
                if (!lk_sym_prefer(v[w - 1].raw, v[r].raw))
                    v[w - 1].raw = v[r].raw;
            } else {
                v[w++] = v[r];
            }
        }
        n = w;
        changed = 0;
        for (i = 0; i + 1 < n; i++) {
            if (v[i].hi <= v[i + 1].lo)
                continue;
            if (v[i].lo < v[i + 1].lo)
                v[i].hi = v[i + 1].lo;
            else
                v[i + 1].lo = v[i].hi;
            changed = 1;
        }
    }
    return n;
}

MW__UNUSED static const char *sym_at(const struct mod *md, uint64_t a)
{
    size_t lo = 0, hi = md->nsyms;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (md->syms[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || a >= md->syms[lo - 1].hi)
        return NULL;
    return md->syms[lo - 1].raw;
}

#ifdef MW_HAVE_LIBDW
/* libdw's standard search for debug files ends by asking a debuginfod server, for which it
 * loads libdebuginfod and some twenty libraries it needs, even when no server is configured:
 * tens of milliseconds for every object without a debug file. So the same local search is
 * done here, and libdw's own one only when DEBUGINFOD_URLS names a server. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink, GElf_Word crc,
                          char **debuginfo_file_name)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    char path[PATH_MAX];
    struct lk_elf_info e;
    int fd;

    if (urls && *urls)
        return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink, crc,
                                            debuginfo_file_name);
    /* By build-id, for the debug file and for the dwz file it refers to. */
    fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink, crc,
                                      debuginfo_file_name);
    if (fd >= 0 || !file_name)
        return fd;
    if (debuglink && strchr(debuglink, '/')) {
        /* The dwz file, named by a path (relative to the debug file's directory). */
        if (debuglink[0] == '/') {
            snprintf(path, sizeof path, "%s", debuglink);
        } else {
            const char *slash = strrchr(file_name, '/');
            snprintf(path, sizeof path, "%.*s/%s", slash ? (int)(slash - file_name) : 1,
                     slash ? file_name : ".", debuglink);
        }
    } else if (lk_elf_probe(file_name, &e) < 0 ||
               lk_debug_file(file_name, &e, path, sizeof path) < 0) {
        errno = 0;
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        *debuginfo_file_name = strdup(path);
    errno = 0;
    return fd;
}

static Dwfl_Module *mod_dwfl(lk_sym_t *s, struct mod *md)
{
    if (md->dwfl_tried)
        return md->dm;
    md->dwfl_tried = 1;
    if (md->m->path[0] != '/' || !dw_load())
        return NULL; /* the vdso and other objects without a file; no libdw */
    if (!s->cb.find_debuginfo) {
        s->cb.find_elf = dwfl_build_id_find_elf;
        s->cb.find_debuginfo = find_debuginfo;
        s->cb.section_address = dwfl_offline_section_address;
        s->cb.debuginfo_path = &s->debuginfo_path;
    }
    md->dwfl = dwfl_begin(&s->cb);
    if (!md->dwfl)
        return NULL;
    dwfl_report_begin(md->dwfl);
    md->dm = dwfl_report_elf(md->dwfl, base_name(md->m->path), md->m->path, -1, md->m->bias, false);
    dwfl_report_end(md->dwfl, NULL, NULL);
    return md->dm;
}

static int mod_dwarf(lk_sym_t *s, struct mod *md)
{
    Dwfl_Module *dm;
    Dwarf_Addr bias;

    if (md->dwarf_tried)
        return md->dwarf_ok;
    md->dwarf_tried = 1;
    if (md->has_debug == 0)
        return 0; /* no debug file anywhere: libdw would only look again */
    dm = mod_dwfl(s, md);
    md->dwarf_ok = dm && dwfl_module_getdwarf(dm, &bias) != NULL;
    md->has_debug = md->dwarf_ok;
    return md->dwarf_ok;
}

static void mod_syms(lk_sym_t *s, struct mod *md)
{
    Dwfl_Module *dm;
    int n, i;
    size_t k = 0;

    if (md->syms_tried)
        return;
    md->syms_tried = 1;
    dm = mod_dwfl(s, md);
    n = dm ? dwfl_module_getsymtab(dm) : -1;
    if (n <= 0)
        return;
    md->syms = malloc((size_t)n * sizeof *md->syms);
    if (!md->syms)
        return;
    for (i = 0; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        GElf_Word shndx;
        Elf *elf;
        Dwarf_Addr bias;
        const char *name = dwfl_module_getsym_info(dm, i, &sym, &addr, &shndx, &elf, &bias);
        int type = GELF_ST_TYPE(sym.st_info);
        if (!name || !*name || sym.st_size == 0 || shndx == SHN_UNDEF ||
            (type != STT_FUNC && type != STT_GNU_IFUNC))
            continue;
        md->syms[k].lo = addr - md->m->bias;
        md->syms[k].hi = md->syms[k].lo + sym.st_size;
        md->syms[k].raw = name;
        k++;
    }
    md->nsyms = canonicalise(md->syms, k);
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

/* Frames for the file address a of a module with DWARF: the innermost inlined call first,
 * named as DWARF names it ("push_back"), then the real function, named by its symbol. */
static size_t dwarf_frames(lk_sym_t *s, struct mod *md, Dwfl_Module *m, uint64_t a,
                           struct lk_frame *out, size_t max)
{
    Dwarf_Addr addr = a + md->m->bias, bias = 0;
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
        /* The innermost function scope, then the chain of its concrete parents. */
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
        Dwarf_Attribute at;
        Dwarf_Word cf, cl;
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
            continue;
        memset(&out[n], 0, sizeof out[n]);
        if (tag == DW_TAG_inlined_subroutine) {
            const char *name = dwarf_diename(d);
            out[n].fn = out[n].fn_raw = keep(s, name ? name : "UnknownInlinedFun");
            out[n].inlined = 1;
        } else {
            const char *raw = sym_at(md, a);
            if (!raw) {
                raw = dwarf_formstring(dwarf_attr_integrate(d, DW_AT_linkage_name, &at));
                if (!raw)
                    raw = dwarf_diename(d);
            }
            set_fn(s, &out[n], raw);
        }
        out[n].file = file ? keep(s, base_name(file)) : NULL;
        out[n].line = lineno;
        n++;
        if (tag == DW_TAG_subprogram)
            break;
        /* The caller's location is this inlined call's call site. */
        file = NULL;
        lineno = 0;
        if (dwarf_formudata(dwarf_attr(d, DW_AT_call_file, &at), &cf) == 0 && files)
            file = dwarf_filesrc(files, cf, NULL, NULL);
        if (dwarf_formudata(dwarf_attr(d, DW_AT_call_line, &at), &cl) == 0)
            lineno = (int)cl;
    }
    free(scopes);
    return n;
}

static size_t describe(lk_sym_t *s, struct mod *md, uint64_t a, int symbol_only,
                       struct lk_frame *out, size_t max)
{
    Dwfl_Module *dm;
    size_t n = 0;

    mod_syms(s, md);
    if (!symbol_only && mod_dwarf(s, md)) {
        dm = mod_dwfl(s, md);
        n = dwarf_frames(s, md, dm, a, out, max);
        if (n > 0)
            return n;
    }
    memset(&out[0], 0, sizeof out[0]);
    set_fn(s, &out[0], sym_at(md, a));
    if (!symbol_only && md->dwarf_ok) {
        Dwfl_Line *line = dwfl_module_getsrc(mod_dwfl(s, md), a + md->m->bias);
        int lineno = 0;
        const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
        if (file && out[0].kind != LK_FN_BELOW_MAIN) {
            out[0].file = keep(s, base_name(file));
            out[0].line = lineno;
        }
    }
    return 1;
}
#else
static size_t describe(lk_sym_t *s, struct mod *md, uint64_t a, int symbol_only,
                       struct lk_frame *out, size_t max)
{
    (void)s;
    (void)md;
    (void)a;
    (void)symbol_only;
    (void)max;
    memset(&out[0], 0, sizeof out[0]);
    return 1;
}
#endif

/* ---- lookups: memo, cache, libdw ----------------------------------------------------------- */
static struct memo *memo_slot(lk_sym_t *s, uint64_t key)
{
    size_t h, i;

    if ((s->used + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        struct memo *n = calloc(ncap, sizeof *n);
        if (!n)
            return NULL;
        for (i = 0; i < s->cap; i++) {
            if (!s->memo[i].key)
                continue;
            h = (size_t)(s->memo[i].key * 0x9E3779B97F4A7C15ull >> 20) & (ncap - 1);
            while (n[h].key)
                h = (h + 1) & (ncap - 1);
            n[h] = s->memo[i];
        }
        free(s->memo);
        s->memo = n;
        s->cap = ncap;
    }
    h = (size_t)(key * 0x9E3779B97F4A7C15ull >> 20) & (s->cap - 1);
    while (s->memo[h].key && s->memo[h].key != key)
        h = (h + 1) & (s->cap - 1);
    return &s->memo[h];
}

static size_t lookup(lk_sym_t *s, uint64_t ip, int first, int symbol_only, struct lk_frame *out,
                     size_t max)
{
    uint64_t key = ((ip << 2) | ((uint64_t) !!first << 1) | (uint64_t) !!symbol_only) + 1;
    struct memo *slot = memo_slot(s, key);
    struct lk_frame tmp[MAX_INLINE], base;
    const struct lk_frame *cached;
    struct mod *md;
    size_t idx = 0, n, i;

    if (max > MAX_INLINE)
        max = MAX_INLINE;
    if (slot && slot->key == key) {
        n = slot->n < max ? slot->n : max;
        memcpy(out, slot->f, n * sizeof *out);
        return n;
    }
    memset(&base, 0, sizeof base);
    base.ip = first ? ip : ip - 1; /* memcheck prints the call, not the return address */
    base.mod = -1;
    md = mod_of(s, ip, &idx);
    if (!md) {
        tmp[0] = base;
        n = 1;
    } else {
        uint64_t a = ip - md->m->bias - (first ? 0 : 1), ckey = (a << 1) | !!symbol_only;
        mod_probe(s, md);
        n = lk_symcache_get(md->cache, ckey, &cached);
        if (n > MAX_INLINE)
            n = MAX_INLINE;
        if (n) {
            memcpy(tmp, cached, n * sizeof *tmp);
        } else {
            n = describe(s, md, a, symbol_only, tmp, MAX_INLINE);
            lk_symcache_put(md->cache, ckey, tmp, n);
        }
        base.mod = (int)idx;
        base.module = mod_name(md);
        base.offset = base.ip - md->m->bias;
        base.has_debug = md->has_debug > 0;
        for (i = 0; i < n; i++) {
            tmp[i].ip = base.ip;
            tmp[i].module = base.module;
            tmp[i].offset = base.offset;
            tmp[i].mod = base.mod;
            tmp[i].has_debug = base.has_debug;
        }
    }
    if (slot) {
        slot->f = malloc(n * sizeof *slot->f);
        if (slot->f) {
            memcpy(slot->f, tmp, n * sizeof *tmp);
            slot->key = key;
            slot->n = n;
            s->used++;
        }
    }
    n = n < max ? n : max;
    memcpy(out, tmp, n * sizeof *out);
    return n;
}

size_t lk_sym_lookup(lk_sym_t *s, uint64_t ip, int first, struct lk_frame *out, size_t max)
{
    return lookup(s, ip, first, 0, out, max);
}

void lk_sym_symbol(lk_sym_t *s, uint64_t ip, int first, struct lk_frame *out)
{
    lookup(s, ip, first, 1, out, 1);
}

void lk_sym_free(lk_sym_t *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->nmods; i++) {
        struct mod *md = &s->mods[i];
        lk_symcache_close(md->cache);
#ifdef MW_HAVE_LIBDW
        if (md->dwfl)
            dwfl_end(md->dwfl);
#endif
        free(md->syms);
        free(md->name);
    }
    for (i = 0; i < s->cap; i++)
        free(s->memo[i].f);
    for (i = 0; i < s->nstrings; i++)
        free(s->strings[i]);
    free(s->strings);
    free(s->memo);
    free(s->mods);
    free(s);
}
