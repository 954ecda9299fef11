/* What the symbolizer knows of an object without libdw (its build-id, whether it carries DWARF,
 * where its separate debug file is), and the cache of symbolized addresses kept per build-id
 * between runs, so that a second run of a program does not read DWARF again.
 *
 * A cache file holds the frames of the addresses already asked for in one object, and names
 * the debug information they were read from (the object itself, a separate file with its size
 * and time, or none): when that changes (a -dbg package installed or removed), the file is
 * ignored and rewritten. Files are replaced whole by rename, so a reader never sees half of
 * one; a damaged or foreign file (bad magic, bad checksum, a length out of bounds) is ignored;
 * two runs writing at once lose, at worst, the entries of one of them. */
#include "cli/leaks_int.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the ELF probe ------------------------------------------------------------------------ */
static int read_at(int fd, void *buf, size_t n, uint64_t off, uint64_t size)
{
    if (off > size || n > size - off)
        return -1;
    return pread(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

/* Looks for the GNU build-id note in n bytes of notes. */
static void parse_notes(const unsigned char *p, size_t n, struct lk_elf_info *e)
{
    size_t off = 0;

    while (off + 12 <= n && !e->build_id_len) {
        uint32_t namesz, descsz, type;
        size_t name_off = off + 12, desc_off, next;
        memcpy(&namesz, p + off, 4);
        memcpy(&descsz, p + off + 4, 4);
        memcpy(&type, p + off + 8, 4);
        desc_off = name_off + (((size_t)namesz + 3) & ~(size_t)3);
        next = desc_off + (((size_t)descsz + 3) & ~(size_t)3);
        if (namesz > n || descsz > n || desc_off > n || next > n || next <= off)
            return;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(p + name_off, "GNU", 4) == 0 &&
            descsz > 0 && descsz <= sizeof e->build_id) {
            memcpy(e->build_id, p + desc_off, descsz);
            e->build_id_len = descsz;
        }
        off = next;
    }
}

static void read_notes(int fd, uint64_t off, uint64_t len, uint64_t size, struct lk_elf_info *e)
{
    unsigned char *buf;

    if (len == 0 || len > 65536)
        return;
    buf = malloc(len);
    if (buf && read_at(fd, buf, len, off, size) == 0)
        parse_notes(buf, len, e);
    free(buf);
}

int lk_elf_probe(const char *path, struct lk_elf_info *e)
{
    Elf64_Ehdr eh;
    Elf64_Shdr *sh = NULL;
    char *names = NULL;
    struct stat st;
    uint64_t size, namesz = 0;
    int fd, i;

    memset(e, 0, sizeof *e);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    size = (uint64_t)st.st_size;
    if (read_at(fd, &eh, sizeof eh, 0, size) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64) {
        close(fd);
        return -ENOEXEC;
    }
    if (eh.e_shnum > 0 && eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shstrndx < eh.e_shnum) {
        sh = calloc(eh.e_shnum, sizeof *sh);
        if (sh && read_at(fd, sh, (size_t)eh.e_shnum * sizeof *sh, eh.e_shoff, size) == 0 &&
            sh[eh.e_shstrndx].sh_size < (1u << 20)) {
            namesz = sh[eh.e_shstrndx].sh_size;
            names = calloc(1, namesz + 1);
            if (names && read_at(fd, names, namesz, sh[eh.e_shstrndx].sh_offset, size) < 0) {
                free(names);
                names = NULL;
            }
        }
    }
    for (i = 0; names && i < eh.e_shnum; i++) {
        const char *nm = sh[i].sh_name < namesz ? names + sh[i].sh_name : "";
        if (sh[i].sh_type == SHT_NOTE)
            read_notes(fd, sh[i].sh_offset, sh[i].sh_size, size, e);
        else if (sh[i].sh_type != SHT_NOBITS &&
                 (strcmp(nm, ".debug_info") == 0 || strcmp(nm, ".zdebug_info") == 0))
            e->has_dwarf = 1;
        else if (strcmp(nm, ".gnu_debuglink") == 0 && sh[i].sh_type != SHT_NOBITS &&
                 sh[i].sh_size > 4) {
            size_t n = sh[i].sh_size < sizeof e->debuglink ? sh[i].sh_size : sizeof e->debuglink;
            if (read_at(fd, e->debuglink, n, sh[i].sh_offset, size) == 0)
                e->debuglink[sizeof e->debuglink - 1] = '\0';
            else
                e->debuglink[0] = '\0';
            if (strchr(e->debuglink, '/'))
                e->debuglink[0] = '\0'; /* a base name, never a path */
        }
    }
    if (!names && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0) {
        /* No section table: the build-id from the program headers' notes. */
        for (i = 0; i < eh.e_phnum && !e->build_id_len; i++) {
            Elf64_Phdr ph;
            if (read_at(fd, &ph, sizeof ph, eh.e_phoff + (uint64_t)i * sizeof ph, size) < 0)
                break;
            if (ph.p_type == PT_NOTE)
                read_notes(fd, ph.p_offset, ph.p_filesz, size, e);
        }
    }
    free(names);
    free(sh);
    close(fd);
    return 0;
}

void lk_hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* True when the file at path is the debug file of e (same build-id when e has one). */
static int debug_file_fits(const char *path, const struct lk_elf_info *e)
{
    struct lk_elf_info d;

    if (lk_elf_probe(path, &d) < 0)
        return 0;
    if (!e->build_id_len)
        return 1;
    return d.build_id_len == e->build_id_len &&
           memcmp(d.build_id, e->build_id, d.build_id_len) == 0;
}

int lk_debug_file(const char *path, const struct lk_elf_info *e, char *out, size_t len)
{
    char hex[2 * sizeof e->build_id + 1], dirs[2][PATH_MAX], *canon;
    int k;

    if (e->build_id_len >= 2) {
        lk_hex(e->build_id, e->build_id_len, hex);
        snprintf(out, len, "/usr/lib/debug/.build-id/%.2s/%s.debug", hex, hex + 2);
        if (debug_file_fits(out, e))
            return 0;
    }
    if (!e->debuglink[0])
        return -ENOENT;
    /* The debuglink name, next to the object, in .debug/ there, then under /usr/lib/debug: for
     * the path as given and for the path without symbolic links. */
    snprintf(dirs[0], sizeof dirs[0], "%s", path);
    canon = realpath(path, NULL);
    snprintf(dirs[1], sizeof dirs[1], "%s", canon ? canon : "");
    free(canon);
    for (k = 0; k < 2; k++) {
        char *slash = strrchr(dirs[k], '/');
        const char *fmt[] = {"%s/%s", "%s/.debug/%s", "/usr/lib/debug%s/%s"};
        size_t f;
        if (!slash || (k == 1 && strcmp(dirs[0], dirs[1]) == 0))
            continue;
        *slash = '\0';
        for (f = 0; f < 3; f++) {
            snprintf(out, len, fmt[f], dirs[k], e->debuglink);
            if (strcmp(out, path) != 0 && debug_file_fits(out, e))
                return 0;
        }
    }
    return -ENOENT;
}

int lk_debug_signature(const char *path, const struct lk_elf_info *e, char *out, size_t len)
{
    char dbg[PATH_MAX];
    struct stat st;
    const char *urls = getenv("DEBUGINFOD_URLS");

    if (e->has_dwarf) {
        snprintf(out, len, "self");
        return 0;
    }
    if (lk_debug_file(path, e, dbg, sizeof dbg) == 0 && stat(dbg, &st) == 0) {
        snprintf(out, len, "%s %lld %lld.%09ld", dbg, (long long)st.st_size,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        return 0;
    }
    if (urls && *urls)
        return -ENOENT; /* a debuginfod server may answer: nothing to compare with next time */
    snprintf(out, len, "none");
    return 0;
}

/* ---- the cache ---------------------------------------------------------------------------- */
#define MAGIC       "MWSYMC01"
#define MAX_FILE    (32u << 20)
#define MAX_ENTRIES (1u << 20)
#define MAX_STR     0xfffe
#define NULL_STR    0xffff
#define ARENA_CHUNK 65536

struct centry {
    uint64_t key;
    uint32_t n;
    struct lk_frame *f; /* NULL: empty slot */
};

struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
};

struct lk_symcache {
    char *path, *sig;
    int has_debug;
    struct centry *tab;
    size_t cap, used, added;
    struct chunk *chunks;
};

static void *arena_alloc(lk_symcache_t *c, size_t n, size_t align)
{
    struct chunk *k = c->chunks;
    size_t at;

    if (k) {
        at = (k->used + align - 1) & ~(align - 1);
        if (at + n <= k->cap) {
            k->used = at + n;
            return k->data + at;
        }
    }
    k = malloc(sizeof *k + (n + align > ARENA_CHUNK ? n + align : ARENA_CHUNK));
    if (!k)
        return NULL;
    k->cap = n + align > ARENA_CHUNK ? n + align : ARENA_CHUNK;
    k->next = c->chunks;
    c->chunks = k;
    at = (size_t)(((uintptr_t)k->data + align - 1) & ~(uintptr_t)(align - 1)) - (uintptr_t)k->data;
    k->used = at + n;
    return k->data + at;
}

static const char *arena_str(lk_symcache_t *c, const char *s, size_t n, int *err)
{
    char *d;

    if (!s)
        return NULL;
    d = arena_alloc(c, n + 1, 1);
    if (!d) {
        *err = 1;
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static size_t slot_of(const lk_symcache_t *c, uint64_t key)
{
    size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (c->cap - 1);

    while (c->tab[h].f && c->tab[h].key != key)
        h = (h + 1) & (c->cap - 1);
    return h;
}

static int grow(lk_symcache_t *c)
{
    size_t ncap = c->cap ? c->cap * 2 : 64, i;
    struct centry *old = c->tab, *n = calloc(ncap, sizeof *n);

    if (!n)
        return -1;
    c->tab = n;
    c->cap = ncap;
    for (i = 0; old && i < ncap / 2; i++)
        if (old[i].f)
            c->tab[slot_of(c, old[i].key)] = old[i];
    free(old);
    return 0;
}

/* Stores a copy of n frames under key (no-op when present). */
static int insert(lk_symcache_t *c, uint64_t key, const struct lk_frame *f, size_t n)
{
    struct lk_frame *copy;
    size_t i, h;
    int err = 0;

    if (n == 0 || n > 255 || c->used >= MAX_ENTRIES)
        return -1;
    if ((c->used + 1) * 2 > c->cap && grow(c) < 0)
        return -1;
    h = slot_of(c, key);
    if (c->tab[h].f)
        return 0;
    copy = arena_alloc(c, n * sizeof *copy, _Alignof(struct lk_frame));
    if (!copy)
        return -1;
    for (i = 0; i < n; i++) {
        memset(&copy[i], 0, sizeof copy[i]);
        copy[i].fn = arena_str(c, f[i].fn, f[i].fn ? strlen(f[i].fn) : 0, &err);
        copy[i].fn_raw =
            f[i].fn_raw == f[i].fn
                ? copy[i].fn
                : arena_str(c, f[i].fn_raw, f[i].fn_raw ? strlen(f[i].fn_raw) : 0, &err);
        copy[i].file = arena_str(c, f[i].file, f[i].file ? strlen(f[i].file) : 0, &err);
        copy[i].line = f[i].line;
        copy[i].inlined = f[i].inlined;
        copy[i].kind = f[i].kind;
    }
    if (err)
        return -1;
    c->tab[h].key = key;
    c->tab[h].n = (uint32_t)n;
    c->tab[h].f = copy;
    c->used++;
    return 1;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    while (n--)
        h = (h ^ *p++) * 0x100000001b3ull;
    return h;
}

static int rd_str(struct lk_cursor *r, const char **s, size_t *n)
{
    uint16_t len;

    if (lk_take(r, &len, 2) < 0)
        return -1;
    if (len == NULL_STR) {
        *s = NULL;
        *n = 0;
        return 0;
    }
    if ((size_t)(r->end - r->p) < len)
        return -1;
    *s = (const char *)r->p;
    *n = len;
    r->p += len;
    return 0;
}

/* Reads the file at path into c when it is sound and describes the same debug information;
 * returns the number of entries read, or -1. */
static long load(lk_symcache_t *c, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    struct lk_cursor r;
    uint64_t sum;
    uint32_t siglen, hasdbg, n, i;
    long got = 0;

    if (mw__read_file(path, &data, &len) < 0)
        return -1;
    if (len < 8 + 4 + 8 || len > MAX_FILE || memcmp(data, MAGIC, 8) != 0)
        goto bad;
    memcpy(&sum, data + len - 8, 8);
    if (sum != fnv1a((const unsigned char *)data, len - 8))
        goto bad;
    r.p = (const unsigned char *)data + 8;
    r.end = (const unsigned char *)data + len - 8;
    if (lk_take(&r, &siglen, 4) < 0 || siglen > 8192 || (size_t)(r.end - r.p) < siglen ||
        siglen != strlen(c->sig) || memcmp(r.p, c->sig, siglen) != 0)
        goto bad;
    r.p += siglen;
    if (lk_take(&r, &hasdbg, 4) < 0 || lk_take(&r, &n, 4) < 0 || n > MAX_ENTRIES)
        goto bad;
    for (i = 0; i < n; i++) {
        struct lk_frame f[256];
        uint64_t key;
        uint8_t nf, k;
        if (lk_take(&r, &key, 8) < 0 || lk_take(&r, &nf, 1) < 0 || nf == 0)
            goto bad;
        for (k = 0; k < nf; k++) {
            const char *s[3];
            size_t sl[3];
            int32_t line;
            uint8_t inl, kind;
            int j, err = 0;
            if (lk_take(&r, &line, 4) < 0 || lk_take(&r, &inl, 1) < 0 ||
                lk_take(&r, &kind, 1) < 0 || kind > 2)
                goto bad;
            for (j = 0; j < 3; j++)
                if (rd_str(&r, &s[j], &sl[j]) < 0)
                    goto bad;
            memset(&f[k], 0, sizeof f[k]);
            /* Strings go to the arena as they are read: insert copies them once more, which
             * keeps one code path for both sources at the price of a few bytes. */
            f[k].fn = arena_str(c, s[0], sl[0], &err);
            f[k].fn_raw = arena_str(c, s[1], sl[1], &err);
            f[k].file = arena_str(c, s[2], sl[2], &err);
            f[k].line = line;
            f[k].inlined = inl;
            f[k].kind = kind;
            if (err)
                goto bad;
        }
        if (insert(c, key, f, nf) > 0)
            got++;
    }
    if (r.p != r.end)
        goto bad;
    c->has_debug = (int)hasdbg;
    free(data);
    return got;
bad:
    free(data);
    return -1;
}

lk_symcache_t *lk_symcache_open(const char *dir, const char *id, const char *sig, int has_debug)
{
    lk_symcache_t *c = calloc(1, sizeof *c);
    size_t n = strlen(dir) + strlen(id) + 2;

    if (!c)
        return NULL;
    c->path = malloc(n);
    c->sig = strdup(sig);
    if (!c->path || !c->sig) {
        lk_symcache_close(c);
        return NULL;
    }
    snprintf(c->path, n, "%s/%s", dir, id);
    c->has_debug = has_debug;
    if (grow(c) < 0) {
        lk_symcache_close(c);
        return NULL;
    }
    load(c, c->path);
    c->added = 0;
    c->has_debug = has_debug;
    return c;
}

size_t lk_symcache_get(lk_symcache_t *c, uint64_t key, const struct lk_frame **out)
{
    size_t h;

    if (!c || !c->cap)
        return 0;
    h = slot_of(c, key);
    if (!c->tab[h].f)
        return 0;
    *out = c->tab[h].f;
    return c->tab[h].n;
}

void lk_symcache_put(lk_symcache_t *c, uint64_t key, const struct lk_frame *f, size_t n)
{
    if (c && insert(c, key, f, n) > 0)
        c->added++;
}

/* ---- writing ------------------------------------------------------------------------------ */
struct wbuf {
    unsigned char *p;
    size_t n, cap;
    int err;
};

static void put(struct wbuf *w, const void *s, size_t n)
{
    if (w->err)
        return;
    if (w->n + n > w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 65536;
        unsigned char *np;
        while (ncap < w->n + n)
            ncap *= 2;
        np = realloc(w->p, ncap);
        if (!np) {
            w->err = 1;
            return;
        }
        w->p = np;
        w->cap = ncap;
    }
    memcpy(w->p + w->n, s, n);
    w->n += n;
}

static void put_str(struct wbuf *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    uint16_t len = s ? (uint16_t)(n > MAX_STR ? MAX_STR : n) : NULL_STR;

    put(w, &len, 2);
    if (s)
        put(w, s, len);
}

static int mkdirs(const char *dir)
{
    char tmp[PATH_MAX], *p;

    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    for (p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int save(lk_symcache_t *c)
{
    struct wbuf w = {0};
    uint32_t siglen = (uint32_t)strlen(c->sig), hasdbg = (uint32_t)c->has_debug,
             n = (uint32_t)c->used;
    uint64_t sum;
    char tmp[PATH_MAX], dir[PATH_MAX], *slash;
    size_t i, k;
    int fd, ok;

    /* What another run saved meanwhile joins ours. */
    load(c, c->path);
    n = (uint32_t)c->used;
    put(&w, MAGIC, 8);
    put(&w, &siglen, 4);
    put(&w, c->sig, siglen);
    put(&w, &hasdbg, 4);
    put(&w, &n, 4);
    for (i = 0; i < c->cap; i++) {
        const struct centry *e = &c->tab[i];
        uint8_t nf = (uint8_t)e->n;
        if (!e->f)
            continue;
        put(&w, &e->key, 8);
        put(&w, &nf, 1);
        for (k = 0; k < e->n; k++) {
            int32_t line = e->f[k].line;
            uint8_t inl = (uint8_t)e->f[k].inlined, kind = (uint8_t)e->f[k].kind;
            put(&w, &line, 4);
            put(&w, &inl, 1);
            put(&w, &kind, 1);
            put_str(&w, e->f[k].fn);
            put_str(&w, e->f[k].fn_raw);
            put_str(&w, e->f[k].file);
        }
    }
    if (w.err || w.n + 8 > MAX_FILE) {
        free(w.p);
        return -ENOMEM;
    }
    sum = fnv1a(w.p, w.n);
    put(&w, &sum, 8);
    snprintf(dir, sizeof dir, "%s", c->path);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (w.err || mkdirs(dir) < 0) {
        free(w.p);
        return -EIO;
    }
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", c->path, (int)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        free(w.p);
        return -errno;
    }
    ok = write(fd, w.p, w.n) == (ssize_t)w.n;
    ok = close(fd) == 0 && ok;
    free(w.p);
    if (!ok || rename(tmp, c->path) < 0) {
        unlink(tmp);
        return -EIO;
    }
    return 0;
}

void lk_symcache_close(lk_symcache_t *c)
{
    struct chunk *k, *next;

    if (!c)
        return;
    if (c->added && c->path && c->sig)
        save(c);
    for (k = c->chunks; k; k = next) {
        next = k->next;
        free(k);
    }
    free(c->tab);
    free(c->path);
    free(c->sig);
    free(c);
}

const char *lk_cache_dir(void)
{
    static char dir[PATH_MAX];
    const char *v = getenv("MEMWALK_SYMBOL_CACHE"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");

    if (v && *v) {
        if (strcmp(v, "off") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
            return NULL;
        snprintf(dir, sizeof dir, "%s", v);
    } else if (xdg && xdg[0] == '/') {
        snprintf(dir, sizeof dir, "%s/memwalk/symbols", xdg);
    } else if (home && home[0] == '/') {
        snprintf(dir, sizeof dir, "%s/.cache/memwalk/symbols", home);
    } else {
        return NULL;
    }
    return dir;
}
