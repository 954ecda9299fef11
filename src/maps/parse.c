/* The strict parser of /proc/PID/maps and smaps text, and the arena that holds its strings. */
#include "common/common.h"
#include "maps/maps_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARENA_BLOCK (64 * 1024)

struct mw__arena_block {
    struct mw__arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *mw__arena_alloc(mw__arena_t *a, size_t size)
{
    struct mw__arena_block *b = a->head;
    void *p;

    size = (size + 15) & ~(size_t)15;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        /* A large one-off block goes behind the current one so its free space stays in use. */
        if (a->head && cap > ARENA_BLOCK) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    p = b->data + b->used;
    b->used += size;
    return p;
}

char *mw__arena_strndup(mw__arena_t *a, const char *s, size_t n)
{
    char *p = mw__arena_alloc(a, n + 1);

    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void mw__arena_free(mw__arena_t *a)
{
    struct mw__arena_block *b = a->head, *next;

    for (; b; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
}

int mw__grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 16;
    void *p;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    p = realloc(*arr, ncap * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* Above this size the regions array gets a mapping of its own, in 2 MiB pages where the kernel
 * allows them: one page fault instead of 512 (on a virtual machine a fault costs microseconds,
 * and 10,000 regions are 2 MB). Below it, malloc, so a small map costs no huge page: 1,260
 * regions for a map that may stay cached in the process (MW_SHOW), 315 for another process's
 * map read for a moment. */
#define REGIONS_MAPPED_MIN           (256 * 1024)
#define REGIONS_MAPPED_MIN_TRANSIENT (64 * 1024)
#define HUGE_PAGE                    (2 * 1024 * 1024)

static void *map_huge(size_t len)
{
    size_t span = len + HUGE_PAGE;
    char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *a;

    if (p == MAP_FAILED)
        return NULL;
    /* Keep the 2 MiB-aligned part only. */
    a = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (p + span > a + len)
        munmap(a + len, (size_t)(p + span - (a + len)));
    madvise(a, len, MADV_HUGEPAGE); /* a hint: without it, 4 KiB pages */
    return a;
}

int mw__maps_grow_regions(mw_maps_t *maps, size_t *cap, size_t need)
{
    struct mw__maps_priv *p = maps->priv;
    size_t ncap = *cap ? *cap : 16, len;
    void *a;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    if (ncap > SIZE_MAX / sizeof(mw_region_t))
        return -ENOMEM;
    len = ncap * sizeof(mw_region_t);
    if (len < (p->regions_mapped_min ? p->regions_mapped_min : REGIONS_MAPPED_MIN))
        return mw__grow((void **)&maps->regions, cap, need, sizeof(mw_region_t));
    len = (len + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    a = map_huge(len);
    if (!a)
        return -ENOMEM;
    if (maps->count)
        memcpy(a, maps->regions, maps->count * sizeof(mw_region_t));
    mw__maps_free_regions(maps);
    maps->regions = a;
    p->regions_mapped = len;
    *cap = len / sizeof(mw_region_t);
    return 0;
}

void mw__maps_free_regions(mw_maps_t *maps)
{
    if (maps->priv && maps->priv->regions_mapped)
        munmap(maps->regions, maps->priv->regions_mapped);
    else
        free(maps->regions);
    maps->regions = NULL;
    if (maps->priv)
        maps->priv->regions_mapped = 0;
}

size_t mw__maps_unescape(char *s, size_t n)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 3 < n && memcmp(s + i + 1, "012", 3) == 0) {
            s[o++] = '\n';
            i += 3;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return o;
}

/* Hex number of 1..maxdigits digits at *p, advancing *p. */
static int take_hex(const char **p, const char *end, unsigned maxdigits, uint64_t *out)
{
    const char *s = *p, *start = s;
    uint64_t v = 0;
    int d;

    /* Digits past maxdigits are counted, not trusted: the value is refused then. */
    while (s < end && (d = mw__hex_digit(*s)) >= 0) {
        v = v << 4 | (uint64_t)d;
        s++;
    }
    if (s == start || (size_t)(s - start) > maxdigits)
        return -1;
    *p = s;
    *out = v;
    return 0;
}

static int take_dec(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;

    if (s >= end || *s < '0' || *s > '9')
        return -1;
    while (s < end && *s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

static int take_char(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return -1;
    (*p)++;
    return 0;
}

static const char deleted_suffix[] = " (deleted)";

/* The parser's state between chunks of text. */
struct field_buf {
    mw_smaps_field_t *f;
    size_t n, cap;
};

struct parser {
    mw_maps_t m;
    struct field_buf fb; /* the fields of the region being read (when they are kept) */
    size_t nkey;         /* smaps keys read so far for that region */
    size_t cap, line;
    int smaps, fields, fast;
    int r; /* 0, -1 (malformed) or a negative errno */
    /* The last region's path and flags words: neighbours often repeat them, and a repeat
     * shares the string instead of taking new memory. */
    const char *last_path;
    size_t last_raw_len; /* length of its text in the input, or SIZE_MAX when it had escapes */
    const char *last_vm_flags;
    size_t last_vm_len;
};

/* One header line "start-end perms offset dev:dev inode [path]" in [s, end). */
static int parse_header(struct parser *ps, const char *s, const char *end, mw_region_t *r)
{
    uint64_t start, stop, off, maj, min, ino;
    size_t plen;
    char *path;

    if (take_hex(&s, end, 16, &start) || take_char(&s, end, '-') || take_hex(&s, end, 16, &stop) ||
        take_char(&s, end, ' '))
        return -1;
    if (start >= stop || start > UINTPTR_MAX || stop > UINTPTR_MAX)
        return -1;
    if (end - s < 5 || (s[0] != 'r' && s[0] != '-') || (s[1] != 'w' && s[1] != '-') ||
        (s[2] != 'x' && s[2] != '-') || (s[3] != 'p' && s[3] != 's') || s[4] != ' ')
        return -1;
    memcpy(r->perms, s, 4);
    r->perms[4] = '\0';
    s += 5;
    if (take_hex(&s, end, 16, &off) || take_char(&s, end, ' ') || take_hex(&s, end, 8, &maj) ||
        take_char(&s, end, ':') || take_hex(&s, end, 8, &min) || take_char(&s, end, ' ') ||
        take_dec(&s, end, &ino))
        return -1;
    if (s < end) {
        if (*s != ' ')
            return -1;
        while (s < end && *s == ' ')
            s++;
    }
    r->start = (uintptr_t)start;
    r->end = (uintptr_t)stop;
    r->offset = off;
    r->dev_major = (unsigned)maj;
    r->dev_minor = (unsigned)min;
    r->inode = ino;
    plen = (size_t)(end - s);
    if (plen >= sizeof(deleted_suffix) - 1 &&
        memcmp(end - (sizeof(deleted_suffix) - 1), deleted_suffix, sizeof(deleted_suffix) - 1) ==
            0) {
        r->deleted = 1;
        plen -= sizeof(deleted_suffix) - 1;
    }
    if (plen == 0) {
        r->path = "";
        return 0;
    }
    if (plen == ps->last_raw_len && memcmp(s, ps->last_path, plen) == 0) {
        r->path = ps->last_path; /* the next segment of the same file */
        return 0;
    }
    if (memchr(s, '\0', plen))
        return -1;
    path = mw__arena_strndup(&ps->m.priv->arena, s, plen);
    if (!path)
        return -ENOMEM;
    ps->last_raw_len = mw__maps_unescape(path, plen) == plen ? plen : SIZE_MAX;
    ps->last_path = path;
    r->path = path;
    return 0;
}

/* The smaps keys the region struct names, with where they go. */
static const struct {
    const char *key;
    size_t off;
} named[] = {
    {"Size", offsetof(mw_region_t, size_kb)},
    {"Rss", offsetof(mw_region_t, rss_kb)},
    {"Pss", offsetof(mw_region_t, pss_kb)},
    {"Shared_Clean", offsetof(mw_region_t, shared_clean_kb)},
    {"Shared_Dirty", offsetof(mw_region_t, shared_dirty_kb)},
    {"Private_Clean", offsetof(mw_region_t, private_clean_kb)},
    {"Private_Dirty", offsetof(mw_region_t, private_dirty_kb)},
    {"Referenced", offsetof(mw_region_t, referenced_kb)},
    {"Anonymous", offsetof(mw_region_t, anonymous_kb)},
    {"Swap", offsetof(mw_region_t, swap_kb)},
    {"SwapPss", offsetof(mw_region_t, swap_pss_kb)},
    {"Locked", offsetof(mw_region_t, locked_kb)},
};

/* Interns a key. The kernel prints the keys in the same order for every region, so the key at
 * the same position last time is tried first. The pointer lives until the next intern. */
static const struct mw__smaps_key *intern_key(struct mw__maps_priv *p, size_t pos, const char *k,
                                              size_t n)
{
    struct mw__smaps_key *key;
    size_t i;
    char *s;

    if (pos < p->nkeys && p->keys[pos].len == n && memcmp(p->keys[pos].name, k, n) == 0)
        return &p->keys[pos];
    for (i = 0; i < p->nkeys; i++)
        if (p->keys[i].len == n && memcmp(p->keys[i].name, k, n) == 0)
            return &p->keys[i];
    if (mw__grow((void **)&p->keys, &p->capkeys, p->nkeys + 1, sizeof(*p->keys)))
        return NULL;
    s = mw__arena_strndup(&p->arena, k, n);
    if (!s)
        return NULL;
    key = &p->keys[p->nkeys++];
    key->name = s;
    key->len = n;
    key->slot = 0;
    for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strcmp(named[i].key, s) == 0)
            key->slot = named[i].off;
    key->vm_flags = strcmp(s, "VmFlags") == 0;
    memset(key->word, 0, sizeof(key->word));
    memset(key->mask, 0, sizeof(key->mask));
    memset(key->padded, 0, sizeof(key->padded));
    if (n + 1 <= 16) {
        unsigned char text[16] = {0}, ones[16] = {0};
        memcpy(text, s, n);
        text[n] = ':';
        memset(ones, 0xff, n + 1);
        memcpy(key->word, text, sizeof(text));
        memcpy(key->mask, ones, sizeof(ones));
        memset(text + n + 1, ' ', 16 - (n + 1));
        memcpy(key->padded, text, sizeof(text));
    }
    return key;
}

/* Keeps one field of the current region for its fields array. Returns 0 or -ENOMEM. */
static int keep_field(struct parser *ps, const struct mw__smaps_key *key, uint64_t v)
{
    struct field_buf *fb = &ps->fb;

    if (fb->n == fb->cap && mw__grow((void **)&fb->f, &fb->cap, fb->n + 1, sizeof(*fb->f)))
        return -ENOMEM;
    fb->f[fb->n].key = key->name;
    fb->f[fb->n].value = v;
    fb->n++;
    return 0;
}

/* Records one numeric field of region r. Returns 0 or -ENOMEM. */
static inline int store_field(struct parser *ps, mw_region_t *r, const struct mw__smaps_key *key,
                              uint64_t v)
{
    if (key->slot)
        *(uint64_t *)((char *)r + key->slot) = v;
    return ps->fields ? keep_field(ps, key, v) : 0;
}

/* One smaps key line "Key:   123 kB" / "VmFlags: rd wr" in [s, end). */
static int parse_key(struct parser *ps, mw_region_t *r, const char *s, const char *end)
{
    const struct mw__smaps_key *key;
    const char *k = s;
    uint64_t v;

    while (s < end && ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                       (*s >= '0' && *s <= '9') || *s == '_'))
        s++;
    if (s == k || take_char(&s, end, ':'))
        return -1;
    key = intern_key(ps->m.priv, ps->nkey, k, (size_t)(s - 1 - k));
    if (!key)
        return -ENOMEM;
    ps->nkey++;
    while (s < end && *s == ' ')
        s++;
    if (key->vm_flags) {
        const char *e = end;
        while (e > s && e[-1] == ' ')
            e--;
        if (memchr(s, '\0', (size_t)(e - s)))
            return -1;
        /* Neighbours mostly have the same flags: share the string. */
        if (ps->last_vm_flags && ps->last_vm_len == (size_t)(e - s) &&
            memcmp(ps->last_vm_flags, s, (size_t)(e - s)) == 0) {
            r->vm_flags = ps->last_vm_flags;
            return 0;
        }
        r->vm_flags = mw__arena_strndup(&ps->m.priv->arena, s, (size_t)(e - s));
        ps->last_vm_flags = r->vm_flags;
        ps->last_vm_len = (size_t)(e - s);
        return r->vm_flags ? 0 : -ENOMEM;
    }
    if (take_dec(&s, end, &v))
        return -1;
    if (s < end) {
        if (end - s != 3 || memcmp(s, " kB", 3) != 0)
            return -1;
    }
    return store_field(ps, r, key, v);
}

static uint64_t load64(const char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* The value of 8 bytes of text that hold spaces, then one to eight decimal digits (the kernel's
 * right-aligned 8-column number), or UINT64_MAX when they hold anything else. No loop: all eight
 * digits are checked and combined at once. */
static uint64_t value8(uint64_t w)
{
    uint64_t lead, hi, ok;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t notspace = w ^ 0x2020202020202020ull;
    if (!notspace)
        return UINT64_MAX;
    /* The first byte of the text is the lowest of the word: leading spaces become '0'. */
    lead = (uint64_t)(__builtin_ctzll(notspace) & ~7);
    if (lead)
        w = (w & (~0ull << lead)) | (0x3030303030303030ull & ~(~0ull << lead));
    /* Every byte in '0'..'9': high nibble 3, and adding 6 keeps it 3. */
    hi = w & 0xf0f0f0f0f0f0f0f0ull;
    ok = ((w + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull) >> 4;
    if ((hi | ok) != 0x3333333333333333ull)
        return UINT64_MAX;
    w -= 0x3030303030303030ull; /* eight digits, the most significant in the lowest byte */
    /* Each byte becomes 10 * itself + the next one: pairs "12" "34" "56" "78" in bytes 0, 2, 4,
     * 6; then the pairs are weighed by 10^6, 10^4, 10^2 and 1 into the high half. */
    w = w * 10 + (w >> 8);
    return ((w & 0x000000ff000000ffull) * (100 + (1000000ull << 32)) +
            ((w >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32))) >>
           32;
#else
    (void)w;
    (void)lead;
    (void)hi;
    (void)ok;
    return UINT64_MAX; /* the loop below reads it */
#endif
}

/* One line "Key:   123 kB" for key at s, byte by byte. Returns where it ends (its newline or the
 * end of the text) with the value in *v, or NULL when the line is anything else. */
static const char *key_line(const struct mw__smaps_key *key, const char *t, const char *end,
                            uint64_t *v)
{
    const char *d;
    uint64_t x;

    if (end - t >= 16 && key->mask[0]) {
        if (((load64(t) ^ key->word[0]) & key->mask[0]) |
            ((load64(t + 8) ^ key->word[1]) & key->mask[1]))
            return NULL;
    } else if ((size_t)(end - t) <= key->len || t[key->len] != ':' ||
               memcmp(t, key->name, key->len) != 0) {
        return NULL;
    }
    t += key->len + 1;
    /* The kernel pads the value to a column with spaces: skip them a word at a time. */
    for (;;) {
        if (end - t < 8) {
            while (t < end && *t == ' ')
                t++;
            break;
        }
        x = load64(t) ^ 0x2020202020202020ull;
        if (x) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            t += __builtin_ctzll(x) >> 3; /* the first byte that is not a space */
#else
            t += __builtin_clzll(x) >> 3;
#endif
            break;
        }
        t += 8;
    }
    for (x = 0, d = t; t < end && (unsigned char)(*t - '0') < 10; t++)
        x = x * 10 + (uint64_t)(*t - '0');
    /* No digit, or so many that the value may have wrapped: the general path says which. */
    if (t == d || t - d > 19)
        return NULL;
    if (end - t >= 3 && t[0] == ' ' && t[1] == 'k' && t[2] == 'B')
        t += 3;
    if (t < end && *t != '\n')
        return NULL;
    *v = x;
    return t;
}

/* The fast path for the ~25 lines per region: the keys the kernel printed for the previous
 * region, in that order, each "Key:   123 kB\n", parsed without searching for the lines' ends.
 * Stops at the first line that is anything else (the general path decides about it, with the
 * same result) and returns its start; ps->line counts the lines read, ps->r an out-of-memory
 * error. */
static const char *fast_keys(struct parser *ps, const char *s, const char *end)
{
    const struct mw__smaps_key *key, *last;
    mw_region_t *r = &ps->m.regions[ps->m.count - 1];
    size_t lines = 0;

    if (ps->nkey >= ps->m.priv->nkeys)
        return s; /* no key known yet, or all of them read */
    key = ps->m.priv->keys + ps->nkey;
    last = ps->m.priv->keys + ps->m.priv->nkeys;
    for (; key < last && s < end; key++) {
        const char *t = s;
        uint64_t v;
        if (key->vm_flags)
            break;
        /* The kernel's own shape, "Key:" padded to 16 columns, the value in 8, " kB\n", read
         * without a loop; any other line the byte by byte way. */
        if (end - t >= 28 && key->mask[0] && t[27] == '\n' && t[24] == ' ' && t[25] == 'k' &&
            t[26] == 'B' && load64(t) == key->padded[0] && load64(t + 8) == key->padded[1] &&
            (v = value8(load64(t + 16))) != UINT64_MAX)
            t += 27;
        else if ((t = key_line(key, t, end, &v)) == NULL)
            break;
        if (key->slot)
            *(uint64_t *)((char *)r + key->slot) = v;
        if (ps->fields && (ps->r = keep_field(ps, key, v)) != 0)
            break;
        s = t < end ? t + 1 : t;
        lines++;
    }
    ps->nkey = (size_t)(key - ps->m.priv->keys);
    ps->line += lines;
    return s;
}

/* Ends the current region's smaps block: its fields go to the arena. */
static int flush_fields(struct parser *ps, mw_region_t *r)
{
    struct field_buf *fb = &ps->fb;
    mw_smaps_field_t *f;

    r->has_smaps = 1;
    ps->nkey = 0;
    if (fb->n == 0)
        return 0;
    f = mw__arena_alloc(&ps->m.priv->arena, fb->n * sizeof(*f));
    if (!f)
        return -ENOMEM;
    memcpy(f, fb->f, fb->n * sizeof(*f));
    r->fields = f;
    r->nfields = fb->n;
    fb->n = 0;
    return 0;
}

static int is_key_line(const char *s, const char *end)
{
    /* "Key:" never has '-' before its ':', a header always has '-' after its first hex run. */
    while (s < end && *s != ':' && *s != '-' && *s != ' ')
        s++;
    return s < end && *s == ':';
}

static int parser_init(struct parser *ps, unsigned flags)
{
    memset(ps, 0, sizeof(*ps));
    ps->smaps = !!(flags & MW_MAPS_SMAPS);
    ps->fields = ps->smaps && !(flags & MW_MAPS_NO_FIELDS);
    ps->fast = ps->smaps && !(flags & MW__MAPS_GENERAL_ONLY);
    ps->m.has_smaps = ps->smaps;
    ps->last_raw_len = SIZE_MAX;
    ps->m.priv = calloc(1, sizeof(*ps->m.priv));
    if (!ps->m.priv)
        return -ENOMEM;
    ps->m.priv->regions_mapped_min =
        (flags & MW__MAPS_TRANSIENT) ? REGIONS_MAPPED_MIN_TRANSIENT : REGIONS_MAPPED_MIN;
    return 0;
}

/* Parses the lines of [p, end); the last one may lack its newline only at the end of input. */
static void parser_feed(struct parser *ps, const char *p, const char *end)
{
    mw_maps_t *m = &ps->m;

    while (ps->r == 0 && p < end) {
        const char *nl, *eol;

        if (ps->fast && m->count) {
            p = fast_keys(ps, p, end);
            if (ps->r || p == end)
                break;
        }
        ps->line++;
        nl = memchr(p, '\n', (size_t)(end - p));
        eol = nl ? nl : end;
        if (ps->smaps && is_key_line(p, eol)) {
            if (memchr(p, '\0', (size_t)(eol - p)))
                ps->r = -1;
            else
                ps->r = m->count ? parse_key(ps, &m->regions[m->count - 1], p, eol) : -1;
        } else {
            if (ps->smaps && m->count)
                ps->r = flush_fields(ps, &m->regions[m->count - 1]);
            if (ps->r == 0 && m->count == ps->cap &&
                mw__maps_grow_regions(m, &ps->cap, m->count + 1))
                ps->r = -ENOMEM;
            if (ps->r == 0) {
                mw_region_t *reg = &m->regions[m->count];
                memset(reg, 0, sizeof(*reg));
                reg->kind = MW_REGION_ANON;
                ps->r = parse_header(ps, p, eol, reg);
                /* Sorted and disjoint, as the kernel writes them: mw_maps_find relies on it. */
                if (ps->r == 0 && m->count && reg->start < m->regions[m->count - 1].end)
                    ps->r = -1;
                if (ps->r == 0)
                    m->count++;
            }
        }
        p = nl ? nl + 1 : end;
    }
}

static int parser_finish(struct parser *ps, mw_maps_t *out, size_t *bad_line)
{
    int r = ps->r;

    if (r == 0 && ps->smaps && ps->m.count)
        r = flush_fields(ps, &ps->m.regions[ps->m.count - 1]);
    free(ps->fb.f);
    if (r != 0) {
        if (r == -1 && bad_line)
            *bad_line = ps->line ? ps->line : 1;
        mw_maps_free(&ps->m);
        return r == -1 ? -EINVAL : r;
    }
    *out = ps->m;
    return 0;
}

int mw__maps_parse_text(const char *text, size_t len, unsigned flags, mw_maps_t *out,
                        size_t *bad_line)
{
    struct parser ps;

    if (parser_init(&ps, flags))
        return -ENOMEM;
    parser_feed(&ps, text, text + len);
    return parser_finish(&ps, out, bad_line);
}

/* A line cut between two chunks, kept until its end arrives. */
struct carry {
    char *buf;
    size_t n, cap;
};

/* Feeds a chunk whose first bytes may end a line begun in the previous chunk (kept in *c) and
 * whose last line may go on in the next one (kept for then). Returns 0 or -ENOMEM. */
static int feed_chunk(struct parser *ps, const char *p, size_t n, struct carry *c)
{
    const char *end = p + n, *nl, *last;

    if (c->n) {
        size_t take;
        nl = memchr(p, '\n', n);
        take = (size_t)((nl ? nl + 1 : end) - p);
        if (mw__grow((void **)&c->buf, &c->cap, c->n + take, 1))
            return -ENOMEM;
        memcpy(c->buf + c->n, p, take);
        c->n += take;
        if (!nl)
            return 0;
        parser_feed(ps, c->buf, c->buf + c->n);
        c->n = 0;
        p = nl + 1;
    }
    last = p < end ? memrchr(p, '\n', (size_t)(end - p)) : NULL;
    if (last) {
        parser_feed(ps, p, last + 1);
        p = last + 1;
    }
    if (p < end) {
        if (mw__grow((void **)&c->buf, &c->cap, (size_t)(end - p), 1))
            return -ENOMEM;
        memcpy(c->buf, p, (size_t)(end - p));
        c->n = (size_t)(end - p);
    }
    return 0;
}

/* The kernel hands out /proc text a page at a time (a few smaps records per read()), so one
 * chunk is filled by several reads before it is parsed. */
#define CHUNK    (16 * 1024)
#define READ_MIN 4096 /* read again while this much room is left */

/* Fills buf from fd: up to CHUNK bytes, fewer at the end of the text. Returns the length, or a
 * negative errno. */
static ssize_t fill_chunk(int fd, char *buf)
{
    size_t fill = 0;

    while (CHUNK - fill >= READ_MIN) {
        ssize_t n = read(fd, buf + fill, CHUNK - fill);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        fill += (size_t)n;
    }
    return (ssize_t)fill;
}

/* Read-ahead: a helper thread keeps the kernel writing the next chunks while the caller parses
 * the last ones. The chunks go round a small ring, so memory stays the same whatever the size
 * of the text (a big process's smaps is megabytes). */
#define RA_CHUNKS 4

struct read_ahead {
    int fd;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a chunk was filled or given back */
    char *buf[RA_CHUNKS];
    ssize_t len[RA_CHUNKS]; /* bytes, or a negative errno for the last chunk */
    size_t filled, used;    /* chunks filled by the reader, given back by the parser */
    int done;               /* the reader has stopped (end of text or an error) */
    int stop;               /* the parser wants no more */
};

static void *reader_main(void *arg)
{
    struct read_ahead *ra = arg;

    for (;;) {
        size_t k;
        ssize_t n;
        pthread_mutex_lock(&ra->lock);
        while (ra->filled - ra->used == RA_CHUNKS && !ra->stop)
            pthread_cond_wait(&ra->cond, &ra->lock);
        k = ra->filled % RA_CHUNKS;
        if (ra->stop) {
            ra->done = 1;
            pthread_cond_broadcast(&ra->cond);
            pthread_mutex_unlock(&ra->lock);
            return NULL;
        }
        pthread_mutex_unlock(&ra->lock);
        n = fill_chunk(ra->fd, ra->buf[k]);
        pthread_mutex_lock(&ra->lock);
        ra->len[k] = n;
        ra->filled++;
        ra->done = n <= 0;
        pthread_cond_broadcast(&ra->cond);
        pthread_mutex_unlock(&ra->lock);
        if (n <= 0)
            return NULL;
    }
}

/* Parses fd's text as the reader thread delivers it. Returns 0, a read error, -ENOMEM, or
 * -EAGAIN when no thread could be started (nothing was read: the caller reads by itself). */
static int parse_read_ahead(int fd, struct parser *ps, struct carry *c)
{
    struct read_ahead ra;
    pthread_attr_t attr;
    pthread_t tid;
    sigset_t all, old;
    int r = 0, rc;
    size_t i;

    memset(&ra, 0, sizeof(ra));
    ra.fd = fd;
    ra.buf[0] = malloc((size_t)CHUNK * RA_CHUNKS);
    if (!ra.buf[0])
        return -EAGAIN;
    for (i = 1; i < RA_CHUNKS; i++)
        ra.buf[i] = ra.buf[0] + i * CHUNK;
    pthread_mutex_init(&ra.lock, NULL);
    pthread_cond_init(&ra.cond, NULL);
    /* The helper only reads: no signal of the process is ever delivered to it. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setstacksize(&attr, 64 * 1024);
        rc = pthread_create(&tid, &attr, reader_main, &ra);
        pthread_attr_destroy(&attr);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        r = -EAGAIN;
        goto out;
    }
    for (;;) {
        size_t k;
        ssize_t n;
        pthread_mutex_lock(&ra.lock);
        while (ra.filled == ra.used && !ra.done)
            pthread_cond_wait(&ra.cond, &ra.lock);
        if (ra.filled == ra.used) {
            pthread_mutex_unlock(&ra.lock);
            break;
        }
        k = ra.used % RA_CHUNKS;
        n = ra.len[k];
        pthread_mutex_unlock(&ra.lock);
        if (n < 0)
            r = (int)n;
        else if (n > 0)
            r = feed_chunk(ps, ra.buf[k], (size_t)n, c);
        pthread_mutex_lock(&ra.lock);
        ra.used++;
        if (r || ps->r || n <= 0)
            ra.stop = 1;
        pthread_cond_broadcast(&ra.cond);
        pthread_mutex_unlock(&ra.lock);
        if (r || ps->r || n <= 0)
            break;
    }
    pthread_join(tid, NULL);
out:
    pthread_cond_destroy(&ra.cond);
    pthread_mutex_destroy(&ra.lock);
    free(ra.buf[0]);
    return r;
}

int mw__maps_parse_fd(int fd, unsigned flags, mw_maps_t *out, size_t *bad_line)
{
    /* Lines are parsed as they arrive: no copy of the whole text, which is megabytes of smaps
     * for a big process. */
    struct carry c = {0};
    struct parser ps;
    char *buf = NULL;
    int r = -EAGAIN;

    if (parser_init(&ps, flags))
        return -ENOMEM;
    if (flags & MW_MAPS_READ_AHEAD)
        r = parse_read_ahead(fd, &ps, &c);
    if (r == -EAGAIN) {
        r = 0;
        buf = malloc(CHUNK);
        if (!buf)
            r = -ENOMEM;
        while (r == 0 && ps.r == 0) {
            ssize_t n = fill_chunk(fd, buf);
            if (n <= 0) {
                r = (int)n;
                break;
            }
            r = feed_chunk(&ps, buf, (size_t)n, &c);
        }
        free(buf);
    }
    /* A last line without its newline. */
    if (r == 0 && ps.r == 0 && c.n)
        parser_feed(&ps, c.buf, c.buf + c.n);
    free(c.buf);
    if (r && ps.r == 0)
        ps.r = r;
    return parser_finish(&ps, out, bad_line);
}
