/* The strict parser of /proc/PID/maps and smaps text, and the arena that holds its strings. */
#include "common/common.h"
#include "maps/maps_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
    const char *s = *p;
    uint64_t v = 0;
    unsigned n = 0;
    int d;

    while (s < end && (d = mw__hex_digit(*s)) >= 0) {
        if (++n > maxdigits)
            return -1;
        v = v << 4 | (uint64_t)d;
        s++;
    }
    if (n == 0)
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

/* One header line "start-end perms offset dev:dev inode [path]" in [s, end). */
static int parse_header(mw_maps_t *m, const char *s, const char *end, mw_region_t *r)
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
    path = mw__arena_strndup(&m->priv->arena, s, plen);
    if (!path)
        return -ENOMEM;
    mw__maps_unescape(path, plen);
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

/* Interns a key; *slot gets the offset of its named field or 0. The kernel prints the keys in
 * the same order for every region, so the key at the same position last time is tried first. */
static const char *intern_key(struct mw__maps_priv *p, size_t pos, const char *k, size_t n,
                              size_t *slot)
{
    size_t i;
    char *s;

    if (pos < p->nkeys && p->keys[pos][n] == '\0' && memcmp(p->keys[pos], k, n) == 0) {
        *slot = p->key_slot[pos];
        return p->keys[pos];
    }
    for (i = 0; i < p->nkeys; i++)
        if (strncmp(p->keys[i], k, n) == 0 && p->keys[i][n] == '\0') {
            *slot = p->key_slot[i];
            return p->keys[i];
        }
    if (mw__grow((void **)&p->keys, &p->capkeys, p->nkeys + 1, sizeof(*p->keys)))
        return NULL;
    if (mw__grow((void **)&p->key_slot, &p->capslots, p->nkeys + 1, sizeof(*p->key_slot)))
        return NULL;
    s = mw__arena_strndup(&p->arena, k, n);
    if (!s)
        return NULL;
    p->key_slot[p->nkeys] = 0;
    for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strcmp(named[i].key, s) == 0)
            p->key_slot[p->nkeys] = named[i].off;
    *slot = p->key_slot[p->nkeys];
    p->keys[p->nkeys++] = s;
    return s;
}

struct field_buf {
    mw_smaps_field_t *f;
    size_t n, cap;
};

/* One smaps key line "Key:   123 kB" / "VmFlags: rd wr" in [s, end). */
static int parse_key(mw_maps_t *m, mw_region_t *r, struct field_buf *fb, const char *s,
                     const char *end)
{
    const char *k = s, *key;
    size_t klen, slot;
    uint64_t v;

    while (s < end && ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                       (*s >= '0' && *s <= '9') || *s == '_'))
        s++;
    klen = (size_t)(s - k);
    if (klen == 0 || take_char(&s, end, ':'))
        return -1;
    key = intern_key(m->priv, fb->n, k, klen, &slot);
    if (!key)
        return -ENOMEM;
    while (s < end && *s == ' ')
        s++;
    if (key[0] == 'V' && strcmp(key, "VmFlags") == 0) {
        const char *e = end;
        while (e > s && e[-1] == ' ')
            e--;
        r->vm_flags = mw__arena_strndup(&m->priv->arena, s, (size_t)(e - s));
        return r->vm_flags ? 0 : -ENOMEM;
    }
    if (take_dec(&s, end, &v))
        return -1;
    if (s < end) {
        if (end - s != 3 || memcmp(s, " kB", 3) != 0)
            return -1;
    }
    if (mw__grow((void **)&fb->f, &fb->cap, fb->n + 1, sizeof(*fb->f)))
        return -ENOMEM;
    fb->f[fb->n].key = key;
    fb->f[fb->n].value = v;
    fb->n++;
    if (slot)
        *(uint64_t *)((char *)r + slot) = v;
    return 0;
}

/* Copies the pending smaps fields of region r into the arena. */
static int flush_fields(mw_maps_t *m, mw_region_t *r, struct field_buf *fb)
{
    mw_smaps_field_t *f;

    r->has_smaps = 1;
    if (fb->n == 0)
        return 0;
    f = mw__arena_alloc(&m->priv->arena, fb->n * sizeof(*f));
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

/* The parser's state between chunks of text. */
struct parser {
    mw_maps_t m;
    struct field_buf fb;
    size_t cap, line;
    int smaps, r; /* r: 0, -1 (malformed) or a negative errno */
};

static int parser_init(struct parser *ps, int smaps)
{
    memset(ps, 0, sizeof(*ps));
    ps->smaps = smaps;
    ps->m.has_smaps = smaps;
    ps->m.priv = calloc(1, sizeof(*ps->m.priv));
    return ps->m.priv ? 0 : -ENOMEM;
}

/* Parses the lines of [p, end); the last one may lack its newline only at the end of input. */
static void parser_feed(struct parser *ps, const char *p, const char *end)
{
    mw_maps_t *m = &ps->m;

    while (ps->r == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;

        ps->line++;
        if (memchr(p, '\0', (size_t)(eol - p))) {
            ps->r = -1;
        } else if (ps->smaps && is_key_line(p, eol)) {
            ps->r = m->count ? parse_key(m, &m->regions[m->count - 1], &ps->fb, p, eol) : -1;
        } else {
            if (ps->smaps && m->count)
                ps->r = flush_fields(m, &m->regions[m->count - 1], &ps->fb);
            if (ps->r == 0 &&
                mw__grow((void **)&m->regions, &ps->cap, m->count + 1, sizeof(*m->regions)))
                ps->r = -ENOMEM;
            if (ps->r == 0) {
                mw_region_t *reg = &m->regions[m->count];
                memset(reg, 0, sizeof(*reg));
                reg->kind = MW_REGION_ANON;
                ps->r = parse_header(m, p, eol, reg);
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
        r = flush_fields(&ps->m, &ps->m.regions[ps->m.count - 1], &ps->fb);
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

int mw__maps_parse_text(const char *text, size_t len, int smaps, mw_maps_t *out, size_t *bad_line)
{
    struct parser ps;

    if (parser_init(&ps, smaps))
        return -ENOMEM;
    parser_feed(&ps, text, text + len);
    return parser_finish(&ps, out, bad_line);
}

/* Feeds a chunk whose first bytes may end a line begun in the previous chunk (kept in *carry)
 * and whose last line may go on in the next one (kept for then). Returns 0 or -ENOMEM. */
static int feed_chunk(struct parser *ps, const char *p, size_t n, char **carry, size_t *ncarry,
                      size_t *capcarry)
{
    const char *end = p + n, *nl, *last;

    if (*ncarry) {
        nl = memchr(p, '\n', n);
        if (mw__grow((void **)carry, capcarry, *ncarry + (size_t)((nl ? nl + 1 : end) - p), 1))
            return -ENOMEM;
        memcpy(*carry + *ncarry, p, (size_t)((nl ? nl + 1 : end) - p));
        *ncarry += (size_t)((nl ? nl + 1 : end) - p);
        if (!nl)
            return 0;
        parser_feed(ps, *carry, *carry + *ncarry);
        *ncarry = 0;
        p = nl + 1;
    }
    last = p < end ? memrchr(p, '\n', (size_t)(end - p)) : NULL;
    if (last) {
        parser_feed(ps, p, last + 1);
        p = last + 1;
    }
    if (p < end) {
        if (mw__grow((void **)carry, capcarry, (size_t)(end - p), 1))
            return -ENOMEM;
        memcpy(*carry, p, (size_t)(end - p));
        *ncarry = (size_t)(end - p);
    }
    return 0;
}

#define CHUNK (256 * 1024)

int mw__maps_parse_fd(int fd, int smaps, mw_maps_t *out, size_t *bad_line)
{
    /* Lines are parsed as they arrive: no copy of the whole text, which is megabytes of smaps
     * for a big process. */
    char *carry = NULL, *buf = malloc(CHUNK);
    size_t ncarry = 0, capcarry = 0;
    struct parser ps;
    ssize_t n;
    int r = 0;

    if (!buf || parser_init(&ps, smaps)) {
        free(buf);
        return -ENOMEM;
    }
    while (r == 0 && ps.r == 0) {
        n = read(fd, buf, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            r = -errno;
        if (n <= 0)
            break;
        r = feed_chunk(&ps, buf, (size_t)n, &carry, &ncarry, &capcarry);
    }
    free(buf);
    /* A last line without its newline. */
    if (r == 0 && ps.r == 0 && ncarry)
        parser_feed(&ps, carry, carry + ncarry);
    free(carry);
    if (r && ps.r == 0)
        ps.r = r;
    return parser_finish(&ps, out, bad_line);
}
