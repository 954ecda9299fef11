/* The stacks as massif shows them and the trees of detailed snapshots: stacks grouped frame by
 * frame from the allocation point down, groups under the threshold merged into one line, the
 * largest first. */
#include "cli/heap_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INLINE 16

static const uint64_t no_frame[1] = {0}; /* a stack without frames shows as one unknown frame */

/* The function ip is in (a return address), as its symbol names it: inlined frames belong to
 * the function they were inlined into. NULL when unknown. */
static const char *fn_of(lk_sym_t *sym, uint64_t ip)
{
    struct lk_frame f[MAX_INLINE];
    size_t n = lk_sym_lookup(sym, ip, 0, f, MAX_INLINE);

    return n ? f[n - 1].fn : NULL;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');

    return b ? b + 1 : path;
}

static int is_below_main(const char *fn)
{
    return fn &&
           (strcmp(fn, "__libc_start_main") == 0 || strcmp(fn, "__libc_start_call_main") == 0 ||
            strcmp(fn, "generic_start_main") == 0);
}

static int is_listed(const char *fn, const char *const *names)
{
    if (!fn || !names)
        return 0;
    for (; *names; names++)
        if (strcmp(fn, *names) == 0)
            return 1;
    return 0;
}

int hp_stacks_make(const struct hp_profile *p, lk_sym_t *sym, const struct hp_names *names,
                   struct hp_stacks *out)
{
    uint32_t i;

    out->ips = calloc(p->h.ntraces + 1, sizeof *out->ips);
    out->n = calloc(p->h.ntraces + 1, sizeof *out->n);
    if (!out->ips || !out->n) {
        hp_stacks_free(out);
        return -ENOMEM;
    }
    for (i = 0; i < p->h.ntraces; i++) {
        const uint64_t *ips = p->ips[i];
        uint32_t d = p->depth[i], top = 1, end = d, k;
        int found = 0;
        /* Frame 0 is the allocation function; --alloc-fn functions under it go too. */
        while (top < d && is_listed(fn_of(sym, ips[top]), names->alloc_fns))
            top++;
        /* main ends the stack, or a function below it when main is not there. Looked for from
         * the top: the frames below main (in libc) are never symbolized for nothing. */
        for (k = top; k < d && !found; k++) {
            const char *fn = fn_of(sym, ips[k]);
            if ((found = fn && (strcmp(fn, "main") == 0 || is_below_main(fn))))
                end = k + 1;
        }
        if (end - top > names->depth)
            end = top + names->depth;
        if (end > top) {
            out->ips[i] = ips + top;
            out->n[i] = end - top;
        } else {
            out->ips[i] = no_frame;
            out->n[i] = 1;
        }
    }
    return 0;
}

void hp_stacks_free(struct hp_stacks *s)
{
    free(s->ips);
    free(s->n);
    s->ips = NULL;
    s->n = NULL;
}

/* The name a frame prints with. (Where valgrind names an inlined call by its DWARF name,
 * "allocate", the symbolizer gives its full name; the real function's names agree.) */
static const char *frame_name(const struct lk_frame *f)
{
    if (!f->fn)
        return "???";
    if (is_below_main(f->fn))
        return "(below main)"; /* as valgrind names it without --show-below-main */
    return f->fn;
}

/* An object's path as the kernel's maps name it (valgrind's name for it): links resolved,
 * "/lib/x86_64-linux-gnu/libc.so.6" is "/usr/lib/x86_64-linux-gnu/libc.so.6". */
static const char *real_path(const char *path)
{
    static struct {
        const char *key;
        char *real;
    } cache[64];
    static size_t used;
    size_t i;
    char *r;

    for (i = 0; i < used; i++)
        if (cache[i].key == path)
            return cache[i].real ? cache[i].real : path;
    r = realpath(path, NULL);
    if (used < sizeof cache / sizeof cache[0]) {
        cache[used].key = path;
        cache[used++].real = r;
    } else {
        free(r);
        r = NULL;
    }
    return r ? r : path;
}

size_t hp_describe(lk_sym_t *sym, uint64_t ip, char (*lines)[HP_LINE], size_t max)
{
    struct lk_frame f[MAX_INLINE];
    size_t n, k;

    if (!max)
        return 0;
    if (!ip) {
        snprintf(lines[0], HP_LINE, "0x0: ???");
        return 1;
    }
    /* valgrind describes the call instruction (the byte before the return address): each
     * inlined call on its own line, innermost first, then the real function. */
    n = lk_sym_lookup(sym, ip, 0, f, MAX_INLINE);
    if (n > max)
        n = max;
    for (k = 0; k < n; k++) {
        if (f[k].file)
            snprintf(lines[k], HP_LINE, "0x%llX: %s (%s:%d)", (unsigned long long)ip - 1,
                     frame_name(&f[k]), f[k].file, f[k].line);
        else if (f[k].module)
            snprintf(lines[k], HP_LINE, "0x%llX: %s (in %s)", (unsigned long long)ip - 1,
                     frame_name(&f[k]), real_path(f[k].module));
        else
            snprintf(lines[k], HP_LINE, "0x%llX: %s", (unsigned long long)ip - 1,
                     frame_name(&f[k]));
    }
    if (!n) {
        snprintf(lines[0], HP_LINE, "0x%llX: ???", (unsigned long long)ip - 1);
        n = 1;
    }
    return n;
}

/* ---- trees ---------------------------------------------------------------------------------- */
struct ctx {
    const uint64_t *ips;
    uint32_t n;
    uint64_t bytes;
};

static int cmp_ctx(const void *a, const void *b)
{
    const struct ctx *x = a, *y = b;
    uint32_t i, n = x->n < y->n ? x->n : y->n;

    for (i = 0; i < n; i++)
        if (x->ips[i] != y->ips[i])
            return x->ips[i] < y->ips[i] ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

static int cmp_node(const void *a, const void *b)
{
    const struct hp_node *x = a, *y = b;

    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return x->ip < y->ip ? -1 : x->ip > y->ip;
}

/* The children of the contexts c[0..n) (which share their first d frames) into node. */
static int grow(struct hp_node *node, const struct ctx *c, size_t n, uint32_t d, uint64_t sig)
{
    size_t i = 0, j, ngroups = 0, insig = SIZE_MAX;
    struct hp_node *kids;

    for (i = 0; i < n; i++)
        if (c[i].n > d && (i == 0 || c[i - 1].n <= d || c[i - 1].ips[d] != c[i].ips[d]))
            ngroups++;
    if (!ngroups)
        return 0;
    kids = calloc(ngroups, sizeof *kids);
    if (!kids)
        return -ENOMEM;
    node->kids = kids;
    node->nkids = 0;
    for (i = 0; i < n;) {
        struct hp_node g = {0};
        if (c[i].n <= d) {
            i++;
            continue;
        }
        g.ip = c[i].ips[d];
        for (j = i; j < n && c[j].n > d && c[j].ips[d] == g.ip; j++)
            g.bytes += c[j].bytes;
        if (g.bytes < sig) {
            /* Under the threshold: merged into one line, as massif does. */
            if (insig == SIZE_MAX) {
                insig = node->nkids++;
                kids[insig].ip = 0;
            }
            kids[insig].bytes += g.bytes;
            kids[insig].places++;
        } else {
            if (grow(&g, c + i, j - i, d + 1, sig) < 0)
                return -ENOMEM;
            kids[node->nkids++] = g;
        }
        i = j;
    }
    qsort(kids, node->nkids, sizeof *kids, cmp_node);
    return 0;
}

static void free_kids(struct hp_node *n)
{
    uint32_t i;

    for (i = 0; i < n->nkids; i++)
        free_kids(&n->kids[i]);
    free(n->kids);
}

void hp_tree_free(struct hp_node *n)
{
    if (!n)
        return;
    free_kids(n);
    free(n);
}

/* The snapshot's sites as contexts, sorted by their frames; *total: their bytes. */
static struct ctx *contexts(const struct hp_snap *s, const struct hp_stacks *st, size_t *n,
                            uint64_t *total)
{
    struct ctx *c = calloc(s->h.ndetail + 1, sizeof *c);
    uint32_t i;

    *n = 0;
    *total = 0;
    if (!c)
        return NULL;
    for (i = 0; i < s->h.ndetail; i++) {
        const mw__prof_site_t *site = &s->sites[i];
        c[*n].ips = st->ips[site->trace];
        c[*n].n = st->n[site->trace];
        c[*n].bytes = site->bytes;
        *total += site->bytes;
        (*n)++;
    }
    qsort(c, *n, sizeof *c, cmp_ctx);
    return c;
}

struct hp_node *hp_tree_make(const struct hp_profile *p, const struct hp_snap *s,
                             const struct hp_stacks *st, double threshold)
{
    struct hp_node *root = calloc(1, sizeof *root);
    struct ctx *c;
    size_t n;
    uint64_t total, sig;

    (void)p;
    if (!root)
        return NULL;
    c = contexts(s, st, &n, &total);
    if (!c) {
        free(root);
        return NULL;
    }
    root->bytes = total;
    /* Significant: at least threshold percent of the whole heap, extra bytes included; with
     * nothing live everything is insignificant unless the threshold is 0. */
    if (total == 0 && threshold != 0)
        sig = 1;
    else
        sig = (uint64_t)((double)(total + s->h.extra) * threshold / 100);
    if (grow(root, c, n, 0, sig) < 0) {
        free(c);
        hp_tree_free(root);
        return NULL;
    }
    free(c);
    return root;
}

const char *hp_site_label(lk_sym_t *sym, uint64_t ip, char *buf, size_t len)
{
    struct lk_frame f[MAX_INLINE];
    size_t nf = ip ? lk_sym_lookup(sym, ip, 0, f, MAX_INLINE) : 0;
    const struct lk_frame *o = nf ? &f[nf - 1] : NULL; /* the real function */

    if (o && o->file)
        snprintf(buf, len, "%s (%s:%d)", frame_name(o), o->file, o->line);
    else if (o && o->fn && o->module)
        snprintf(buf, len, "%s (in %s)", frame_name(o), base_name(o->module));
    else if (o && o->module) /* two unknown sites of one object must not read alike */
        snprintf(buf, len, "??? (%s+0x%llx)", base_name(o->module),
                 (unsigned long long)o->offset - 1);
    else
        snprintf(buf, len, "%s", o ? frame_name(o) : "???");
    return buf;
}

/* ---- the top sites of the peak -------------------------------------------------------------- */
int hp_site_cmp_ip(const void *a, const void *b)
{
    const struct hp_site *x = a, *y = b;

    return x->ip < y->ip ? -1 : x->ip > y->ip;
}

int hp_site_cmp_bytes(const void *a, const void *b)
{
    const struct hp_site *x = a, *y = b;

    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return hp_site_cmp_ip(a, b);
}

size_t hp_sites_best(struct hp_site *all, size_t n, lk_sym_t *sym, struct hp_site *out, size_t max)
{
    size_t i;

    qsort(all, n, sizeof *all, hp_site_cmp_bytes);
    if (n > max)
        n = max;
    for (i = 0; i < n; i++) {
        out[i] = all[i];
        hp_site_label(sym, all[i].ip, out[i].label, sizeof out[i].label);
    }
    free(all);
    return n;
}

size_t hp_top_sites(const struct hp_profile *p, const struct hp_stacks *st, lk_sym_t *sym,
                    struct hp_site *out, size_t max)
{
    const struct hp_snap *peak = hp_peak(p);
    struct hp_site *all;
    size_t n = 0, i;

    if (!peak || !max)
        return 0;
    all = calloc(peak->h.ndetail + 1, sizeof *all);
    if (!all)
        return 0;
    for (i = 0; i < peak->h.ndetail; i++) {
        all[i].ip = st->ips[peak->sites[i].trace][0];
        all[i].bytes = peak->sites[i].bytes;
        all[i].trace = peak->sites[i].trace;
    }
    /* One site per first frame: its stacks' bytes summed, the largest stack kept. */
    qsort(all, peak->h.ndetail, sizeof *all, hp_site_cmp_ip);
    for (i = 0; i < peak->h.ndetail; i++) {
        if (n && all[n - 1].ip == all[i].ip) {
            if (all[i].bytes > all[n - 1].top_bytes) {
                all[n - 1].trace = all[i].trace;
                all[n - 1].top_bytes = all[i].bytes;
            }
            all[n - 1].bytes += all[i].bytes;
            continue;
        }
        all[n] = all[i];
        all[n].top_bytes = all[i].bytes;
        n++;
    }
    return hp_sites_best(all, n, sym, out, max);
}
