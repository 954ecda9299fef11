/* The sections that follow the fault stack in the tracer's result (record.h): error contexts
 * and the descriptors open at exit, every count and length checked against the bytes. Apart
 * from the printing so that the result parser needs nothing else. */
#include "cli/leaks_errors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *lk_rd_str(struct lk_cursor *c, size_t n)
{
    char *s;

    if ((size_t)(c->end - c->p) < n || !(s = malloc(n + 1)))
        return NULL;
    memcpy(s, c->p, n);
    s[n] = '\0';
    c->p += n;
    return s;
}

/* ---- the result's sections --------------------------------------------------------------- */
static int trace_ok(uint32_t t, uint32_t ntraces)
{
    return t == MW__LEAK_NO_TRACE || t < ntraces;
}

static int parse_errors(struct lk_cursor *c, uint32_t count, struct lk_result *r)
{
    struct lk_sections *s = r->sect;
    uint32_t i;

    if (s->errs || count > (size_t)(c->end - c->p) / sizeof(mw__leak_error_t))
        return -1;
    s->errs = calloc(count + 1, sizeof *s->errs);
    s->err_paths = calloc(count + 1, sizeof *s->err_paths);
    if (!s->errs || !s->err_paths)
        return -1;
    for (i = 0; i < count; i++) {
        mw__leak_error_t *e = &s->errs[i];
        if (lk_take(c, e, sizeof *e) < 0 || e->path_len > 4096 ||
            (e->kind != MW__LEAK_ERR_FREE && e->kind != MW__LEAK_ERR_MISMATCH) ||
            e->addr_kind > MW__LEAK_ADDR_MAPPED || !trace_ok(e->where, r->h.ntraces) ||
            !trace_ok(e->alloc, r->h.ntraces) || !trace_ok(e->freed, r->h.ntraces))
            return -1;
        s->nerrs = i + 1;
        if (!(s->err_paths[i] = lk_rd_str(c, e->path_len)))
            return -1;
    }
    return 0;
}

static int parse_fds(struct lk_cursor *c, uint32_t count, struct lk_result *r)
{
    struct lk_sections *s = r->sect;
    uint32_t i;

    if (s->have_fds || lk_take(c, &s->fdh, sizeof s->fdh) < 0 ||
        count > (size_t)(c->end - c->p) / sizeof(mw__leak_fd_t))
        return -1;
    s->have_fds = 1;
    s->fds = calloc(count + 1, sizeof *s->fds);
    s->fd_names = calloc(count + 1, sizeof *s->fd_names);
    if (!s->fds || !s->fd_names)
        return -1;
    for (i = 0; i < count; i++) {
        mw__leak_fd_t *f = &s->fds[i];
        if (lk_take(c, f, sizeof *f) < 0 || f->name_len > 4096 ||
            !trace_ok(f->trace, r->h.ntraces) || f->addr_len > sizeof f->addr ||
            f->peer_len > sizeof f->peer)
            return -1;
        s->nfds = i + 1;
        if (!(s->fd_names[i] = lk_rd_str(c, f->name_len)))
            return -1;
    }
    return 0;
}

int lk_sections_parse(const unsigned char *p, size_t len, struct lk_result *r)
{
    struct lk_cursor c = {p, p + len};

    while ((size_t)(c.end - c.p) >= sizeof(mw__leak_section_t)) {
        mw__leak_section_t s;
        struct lk_cursor body;
        lk_take(&c, &s, sizeof s);
        if (s.bytes > (size_t)(c.end - c.p))
            return -EINVAL;
        body.p = c.p;
        body.end = c.p + s.bytes;
        c.p += s.bytes;
        if (s.tag != MW__LEAK_SECT_ERRORS && s.tag != MW__LEAK_SECT_FDS)
            continue; /* someone else's section */
        if (!r->sect && !(r->sect = calloc(1, sizeof *r->sect)))
            return -ENOMEM;
        if ((s.tag == MW__LEAK_SECT_ERRORS ? parse_errors(&body, s.count, r)
                                           : parse_fds(&body, s.count, r)) < 0)
            return -EINVAL;
    }
    return c.p == c.end ? 0 : -EINVAL;
}

void lk_sections_free(struct lk_result *r)
{
    struct lk_sections *s = r->sect;
    uint32_t i;

    if (!s)
        return;
    for (i = 0; s->err_paths && i < s->nerrs; i++)
        free(s->err_paths[i]);
    for (i = 0; s->fd_names && i < s->nfds; i++)
        free(s->fd_names[i]);
    free(s->errs);
    free(s->err_paths);
    free(s->fds);
    free(s->fd_names);
    free(s);
    r->sect = NULL;
}
