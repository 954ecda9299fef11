/* Bad frees in memcheck's words: the error contexts of a traced process, printed as they arrive
 * (LIVE messages, while the program runs) or from its result at exit when they did not arrive
 * (a record file, a lost message), and counted in ERROR SUMMARY with the leaks; their JSON; and
 * the parsing of the result's sections (record.h). */
#include "cli/leaks_errors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- one error, as memcheck prints it -------------------------------------------------------- */
enum { W_WHERE, W_ALLOC, W_FREED };

struct errview {
    const mw__leak_error_t *e;
    const char *path;
    const uint64_t *ips[3];
    uint32_t depth[3];
    const struct lk_module *mods;
    size_t nmods;
};

/* What memcheck says of the address: one or two lines, then which stacks follow. */
enum { FOLLOW_NONE, FOLLOW_ALLOC, FOLLOW_FREED, FOLLOW_TEXT };

struct addr_desc {
    char line[768];
    char line2[768];
    int follow;
};

static const struct lk_module *module_at(const struct errview *v, uint64_t a)
{
    size_t i;

    for (i = 0; i < v->nmods; i++)
        if (a >= v->mods[i].lo && a < v->mods[i].hi)
            return &v->mods[i];
    return NULL;
}

/* "in frame #N, created by FN (FILE:LINE)": the function of the frame, and the line where it
 * starts, as memcheck names them. */
static void created_by(const struct errview *v, lk_sym_t *sym, char *out, size_t len)
{
    const mw__leak_error_t *e = v->e;
    const struct lk_module *m = module_at(v, e->frame_ip);
    struct lk_frame f[16];
    uint64_t start = 0;
    size_t n;
    char line[24] = "";
    const char *fn = NULL, *file = NULL;

    if (m)
        start = lk_obj_func_start(m->path, e->frame_ip - m->bias);
    n = lk_sym_lookup(sym, start ? start + m->bias : e->frame_ip, 1, f, 16);
    if (n) {
        fn = f[n - 1].fn;
        file = f[n - 1].file;
        if (start && file)
            snprintf(line, sizeof line, "%d", f[n - 1].line);
    }
    out[0] = '\0';
    if (fn || file)
        snprintf(out, len, " in frame #%d, created by %s (%s:%s)", e->frame, fn ? fn : "???",
                 file ? file : "???", line);
}

static void describe(const struct errview *v, lk_sym_t *sym, struct addr_desc *d)
{
    const mw__leak_error_t *e = v->e;
    unsigned long long a = (unsigned long long)e->addr;
    const struct lk_module *m = module_at(v, e->addr);
    const char *name, *kind;
    uint64_t off;
    char b1[32], b2[32];

    d->line2[0] = '\0';
    d->follow = FOLLOW_NONE;
    if (e->addr_kind == MW__LEAK_ADDR_FREED || e->addr_kind == MW__LEAK_ADDR_ALLOCD) {
        const char *rel = "inside";
        uint64_t delta = (uint64_t)e->offset;
        if (e->offset < 0) {
            rel = "before";
            delta = (uint64_t)-e->offset;
        } else if ((uint64_t)e->offset >= e->size) {
            rel = "after";
            delta = (uint64_t)e->offset - e->size;
        }
        snprintf(d->line, sizeof d->line, " Address 0x%llx is %s bytes %s a block of size %s %s", a,
                 lk_commas(delta, b1, sizeof b1), rel, lk_commas(e->size, b2, sizeof b2),
                 e->addr_kind == MW__LEAK_ADDR_FREED ? "free'd" : "alloc'd");
        d->follow = e->addr_kind == MW__LEAK_ADDR_FREED ? FOLLOW_FREED : FOLLOW_ALLOC;
        return;
    }
    /* memcheck's order for the rest: a data symbol, the active part of a thread's stack, an
     * object's section, the stack below its pointer, the mapping, nothing. */
    if (m && (name = lk_obj_datasym(m->path, e->addr - m->bias, &off)) != NULL) {
        snprintf(d->line, sizeof d->line, " Address 0x%llx is %llu bytes inside data symbol \"%s\"",
                 a, (unsigned long long)off, name);
        return;
    }
    if (e->addr_kind == MW__LEAK_ADDR_STACK && !e->below_sp) {
        snprintf(d->line, sizeof d->line, " Address 0x%llx is on thread %u's stack", a, e->thread);
        if (e->frame >= 0 && e->frame_ip)
            created_by(v, sym, d->line2, sizeof d->line2);
        return;
    }
    if (m && (kind = lk_obj_sectkind(m->path, e->addr - m->bias)) != NULL) {
        snprintf(d->line, sizeof d->line, " Address 0x%llx is in the %s segment of %s", a, kind,
                 m->path);
        if (strcmp(kind, "Text") == 0)
            d->follow = FOLLOW_TEXT;
        return;
    }
    if (e->addr_kind == MW__LEAK_ADDR_STACK) {
        snprintf(d->line, sizeof d->line, " Address 0x%llx is on thread %u's stack", a, e->thread);
        snprintf(d->line2, sizeof d->line2, " %s%llu bytes below stack pointer",
                 e->flags & MW__LEAK_ERRF_GUARD ? "In stack guard protected page, " : "",
                 (unsigned long long)e->below_sp);
        return;
    }
    if (e->addr_kind == MW__LEAK_ADDR_MAPPED) {
        int file = (e->map & MW__LEAK_MAP_FILE) && v->path[0];
        snprintf(d->line, sizeof d->line, " Address 0x%llx is in a %c%c%c %s%s%s segment", a,
                 e->map & MW__LEAK_MAP_R ? 'r' : '-', e->map & MW__LEAK_MAP_W ? 'w' : '-',
                 e->map & MW__LEAK_MAP_X ? 'x' : '-',
                 e->map & MW__LEAK_MAP_SHARED ? "shared memory"
                 : file                       ? "mapped file"
                                              : "anonymous",
                 file ? " " : "", file ? v->path : "");
        return;
    }
    snprintf(d->line, sizeof d->line,
             " Address 0x%llx is not stack'd, malloc'd or (recently) free'd", a);
}

static const char *headline(const mw__leak_error_t *e)
{
    return e->kind == MW__LEAK_ERR_MISMATCH ? "Mismatched free() / delete / delete []"
                                            : "Invalid free() / delete / delete[] / realloc()";
}

/* Prints one error context; *last_thread: the thread of the last one printed (0: none yet,
 * taken as the main thread), for memcheck's "Thread N:" line before an error of another. */
static void print_error(FILE *out, int pid, lk_sym_t *sym, const struct errview *v,
                        uint32_t *last_thread)
{
    struct addr_desc d;

    describe(v, sym, &d);
    if (v->e->by_thread && v->e->by_thread != (*last_thread ? *last_thread : 1)) {
        fprintf(out, "==%d== Thread %u%s%.*s:\n", pid, v->e->by_thread,
                v->e->thread_name[0] ? " " : "", (int)sizeof v->e->thread_name, v->e->thread_name);
        *last_thread = v->e->by_thread;
    }
    fprintf(out, "==%d== %s\n", pid, headline(v->e));
    lk_report_stack(out, pid, sym, v->ips[W_WHERE], v->depth[W_WHERE], 1, NULL, NULL);
    fprintf(out, "==%d== %s\n", pid, d.line);
    if (d.line2[0])
        fprintf(out, "==%d== %s\n", pid, d.line2);
    if (d.follow == FOLLOW_ALLOC) {
        lk_report_stack(out, pid, sym, v->ips[W_ALLOC], v->depth[W_ALLOC], 1, NULL, NULL);
    } else if (d.follow == FOLLOW_FREED) {
        lk_report_stack(out, pid, sym, v->ips[W_FREED], v->depth[W_FREED], 1, NULL, NULL);
        if (v->depth[W_ALLOC]) {
            fprintf(out, "==%d==  Block was alloc'd at\n", pid);
            lk_report_stack(out, pid, sym, v->ips[W_ALLOC], v->depth[W_ALLOC], 1, NULL, NULL);
        }
    } else if (d.follow == FOLLOW_TEXT) {
        uint64_t ip = v->e->addr;
        lk_report_stack(out, pid, sym, &ip, 1, 0, NULL, NULL);
    }
    fprintf(out, "==%d== \n", pid);
}

/* The view of context i of a result: its stacks are the result's traces. */
static void view_of(const struct lk_result *r, uint32_t i, struct errview *v)
{
    const mw__leak_error_t *e = &r->sect->errs[i];
    uint32_t t[3] = {e->where, e->alloc, e->freed}, k;

    memset(v, 0, sizeof *v);
    v->e = e;
    v->path = r->sect->err_paths[i];
    v->mods = r->mods;
    v->nmods = r->h.nmodules;
    for (k = 0; k < 3; k++)
        if (t[k] != MW__LEAK_NO_TRACE) {
            v->ips[k] = r->trace_ips[t[k]];
            v->depth[k] = r->trace_depth[t[k]];
        }
}

/* ---- live messages ----------------------------------------------------------------------- */
struct live {
    int pid;
    unsigned char *buf;
    size_t len, cap;
    struct lk_module *mods;
    size_t nmods;
    lk_sym_t *sym;
    uint64_t *printed; /* origin << 32 | id of the contexts printed */
    size_t nprinted, cap_printed;
    uint32_t last_thread; /* see print_error */
};

static struct live *lives;
static size_t nlives;

static struct live *live_of(int pid, int create)
{
    size_t i;
    struct live *n;

    for (i = 0; i < nlives; i++)
        if (lives[i].pid == pid)
            return &lives[i];
    if (!create || !(n = realloc(lives, (nlives + 1) * sizeof *n)))
        return NULL;
    lives = n;
    memset(&lives[nlives], 0, sizeof lives[0]);
    lives[nlives].pid = pid;
    return &lives[nlives++];
}

static void free_mods(struct live *l)
{
    size_t i;

    lk_sym_free(l->sym);
    l->sym = NULL;
    for (i = 0; i < l->nmods; i++)
        free(l->mods[i].path);
    free(l->mods);
    l->mods = NULL;
    l->nmods = 0;
}

static void live_drop(int pid)
{
    struct live *l = live_of(pid, 0);

    if (!l)
        return;
    free_mods(l);
    free(l->buf);
    free(l->printed);
    *l = lives[--nlives];
}

static int was_printed(int pid, int32_t origin, uint32_t id)
{
    struct live *l = live_of(pid, 0);
    uint64_t key = (uint64_t)(uint32_t)origin << 32 | id;
    size_t i;

    for (i = 0; l && i < l->nprinted; i++)
        if (l->printed[i] == key)
            return 1;
    return 0;
}

static int live_modules(struct live *l, struct lk_cursor *c, uint32_t count)
{
    uint32_t i;

    free_mods(l);
    if (count > (size_t)(c->end - c->p) / sizeof(mw__leak_module_t))
        return -1;
    l->mods = calloc(count + 1, sizeof *l->mods);
    if (!l->mods)
        return -1;
    for (i = 0; i < count; i++) {
        mw__leak_module_t m;
        if (lk_take(c, &m, sizeof m) < 0 || m.path_len > 4096 ||
            !(l->mods[i].path = lk_rd_str(c, m.path_len)))
            return -1;
        l->mods[i].bias = m.bias;
        l->mods[i].lo = m.lo;
        l->mods[i].hi = m.hi;
        l->nmods = i + 1;
    }
    return 0;
}

static int live_error(FILE *out, struct live *l, struct lk_cursor *c, uint32_t count)
{
    mw__leak_error_t e;
    struct errview v;
    uint64_t *ips[3] = {NULL, NULL, NULL};
    uint32_t t[3], dep[3] = {0, 0, 0}, k;
    char *path = NULL;
    int rc = -1;

    memset(&v, 0, sizeof v);
    if (lk_take(c, &e, sizeof e) < 0 || e.path_len > 4096 || count > 3 ||
        !(path = lk_rd_str(c, e.path_len)))
        return -1;
    for (k = 0; k < count; k++) {
        uint32_t d;
        if (lk_take(c, &d, sizeof d) < 0 || d > MW__LEAK_MAX_CALLERS + 1 ||
            !(ips[k] = calloc(d + 1, sizeof(uint64_t))) || lk_take(c, ips[k], d * 8) < 0)
            goto out;
        dep[k] = d;
    }
    t[0] = e.where;
    t[1] = e.alloc;
    t[2] = e.freed;
    for (k = 0; k < 3; k++) {
        if (t[k] == MW__LEAK_NO_TRACE)
            continue;
        if (t[k] >= count)
            goto out;
        v.ips[k] = ips[t[k]];
        v.depth[k] = dep[t[k]];
    }
    v.e = &e;
    v.path = path;
    v.mods = l->mods;
    v.nmods = l->nmods;
    if (!l->sym)
        l->sym = lk_sym_new(l->mods, l->nmods, lk_cache_dir());
    if (!l->sym)
        goto out;
    print_error(out, l->pid, l->sym, &v, &l->last_thread);
    fflush(out);
    if (l->nprinted == l->cap_printed) {
        size_t nc = l->cap_printed ? l->cap_printed * 2 : 16;
        uint64_t *np = realloc(l->printed, nc * sizeof *np);
        if (!np)
            goto out;
        l->printed = np;
        l->cap_printed = nc;
    }
    l->printed[l->nprinted++] = (uint64_t)(uint32_t)e.origin << 32 | e.id;
    rc = 0;
out:
    for (k = 0; k < 3; k++)
        free(ips[k]);
    free(path);
    return rc;
}

int lk_live_message(FILE *out, int pid, const unsigned char *payload, size_t len, uint16_t flags)
{
    struct live *l = live_of(pid, 1);
    struct lk_cursor c;
    mw__leak_live_t h;
    int rc = 0;

    if (!l)
        return -1;
    if (l->len + len > l->cap) {
        size_t nc = l->cap ? l->cap : 16384;
        unsigned char *nb;
        while (nc < l->len + len)
            nc *= 2;
        if (nc > (64u << 20) || !(nb = realloc(l->buf, nc))) {
            l->len = 0;
            return -1;
        }
        l->buf = nb;
        l->cap = nc;
    }
    memcpy(l->buf + l->len, payload, len);
    l->len += len;
    if (!(flags & MW__LEAK_MSG_END))
        return 0;
    c.p = l->buf;
    c.end = l->buf + l->len;
    if (lk_take(&c, &h, sizeof h) < 0)
        rc = -1;
    else if (h.kind == MW__LEAK_LIVE_MODULES)
        rc = live_modules(l, &c, h.count);
    else if (h.kind == MW__LEAK_LIVE_ERROR)
        rc = live_error(out, l, &c, h.count);
    l->len = 0;
    return rc;
}

/* ---- at exit ----------------------------------------------------------------------------- */
void lk_errors_report(FILE *out, const struct lk_result *r, lk_sym_t *sym,
                      struct lk_report_stats *st)
{
    const struct lk_sections *s = r->sect;
    struct live *l = live_of(r->h.pid, 1);
    uint32_t i, last_thread = l ? l->last_thread : 0;

    if (s) {
        for (i = 0; i < s->nerrs; i++) {
            const mw__leak_error_t *e = &s->errs[i];
            struct errview v;
            st->errors += e->count;
            st->contexts++;
            /* Printed by the process that found it (a forked child counts its parent's). */
            if (e->origin != r->h.pid || was_printed(r->h.pid, e->origin, e->id))
                continue;
            view_of(r, i, &v);
            print_error(out, r->h.pid, sym, &v, &last_thread);
        }
        if (s->nerrs && (s->errs[0].flags & MW__LEAK_ERRF_LIMIT))
            fprintf(out,
                    "==%d== More than %u different errors detected.  I'm not reporting any "
                    "more.\n==%d== Final error counts will be inaccurate.  Go fix your "
                    "program!\n==%d== \n",
                    r->h.pid, s->nerrs, r->h.pid, r->h.pid);
    }
    st->last_thread = last_thread;
    live_drop(r->h.pid);
}

/* memcheck's order of -s: the fewest errors first; of equal counts, the context found last. */
struct by_count {
    uint64_t count;
    uint32_t i;
};

static int cmp_by_count(const void *a, const void *b)
{
    const struct by_count *x = a, *y = b;

    if (x->count != y->count)
        return x->count < y->count ? -1 : 1;
    return x->i > y->i ? -1 : x->i < y->i;
}

uint32_t lk_errors_list(FILE *out, const struct lk_result *r, lk_sym_t *sym,
                        struct lk_report_stats *st)
{
    const struct lk_sections *s = r->sect;
    uint32_t k, n = s ? s->nerrs : 0;
    struct by_count *order = n ? malloc(n * sizeof *order) : NULL;

    if (!order)
        return 0;
    for (k = 0; k < n; k++)
        order[k] = (struct by_count){s->errs[k].count, k};
    qsort(order, n, sizeof *order, cmp_by_count);
    for (k = 0; k < n; k++) {
        struct errview v;
        if (k)
            fprintf(out, "==%d== \n", r->h.pid);
        fprintf(out, "==%d== %llu errors in context %u of %llu:\n", r->h.pid,
                (unsigned long long)order[k].count, k + 1, (unsigned long long)st->contexts);
        view_of(r, order[k].i, &v);
        print_error(out, r->h.pid, sym, &v, &st->last_thread);
    }
    free(order);
    return n;
}

void lk_errors_json(mw__json_t *j, const struct lk_result *r, lk_sym_t *sym)
{
    const struct lk_sections *s = r->sect;
    uint32_t i;

    mw__json_array(j, "error_contexts");
    for (i = 0; s && i < s->nerrs; i++) {
        const mw__leak_error_t *e = &s->errs[i];
        struct errview v;
        struct addr_desc d;
        view_of(r, i, &v);
        describe(&v, sym, &d);
        mw__json_object(j, NULL);
        mw__json_str(j, "kind",
                     e->kind == MW__LEAK_ERR_MISMATCH ? "mismatched_free" : "invalid_free");
        mw__json_str(j, "what", headline(e));
        mw__json_uint(j, "count", e->count);
        mw__json_hex(j, "address", e->addr);
        mw__json_int(j, "origin_pid", e->origin);
        if (e->by_thread)
            mw__json_uint(j, "thread", e->by_thread);
        if (e->thread_name[0]) {
            char name[sizeof e->thread_name + 1];
            memcpy(name, e->thread_name, sizeof e->thread_name);
            name[sizeof e->thread_name] = '\0';
            mw__json_str(j, "thread_name", name);
        }
        lk_report_stack(NULL, 0, sym, v.ips[W_WHERE], v.depth[W_WHERE], 1, j, "stack");
        mw__json_str(j, "description", d.line + 1);
        if (d.line2[0])
            mw__json_str(j, "description2", d.line2 + 1);
        if (e->addr_kind == MW__LEAK_ADDR_FREED || e->addr_kind == MW__LEAK_ADDR_ALLOCD) {
            mw__json_int(j, "block_offset", e->offset);
            mw__json_uint(j, "block_size", e->size);
        }
        if (d.follow == FOLLOW_FREED)
            lk_report_stack(NULL, 0, sym, v.ips[W_FREED], v.depth[W_FREED], 1, j, "freed_stack");
        if ((d.follow == FOLLOW_FREED || d.follow == FOLLOW_ALLOC) && v.depth[W_ALLOC])
            lk_report_stack(NULL, 0, sym, v.ips[W_ALLOC], v.depth[W_ALLOC], 1, j, "alloc_stack");
        mw__json_end(j);
    }
    mw__json_end(j);
}
