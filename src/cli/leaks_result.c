/* Reading the tracer's result stream, with every length checked, and small formatting helpers
 * the report shares. */
#include "cli/leaks_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int lk_take(struct lk_cursor *c, void *out, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return -1;
    memcpy(out, c->p, n);
    c->p += n;
    return 0;
}

int lk_result_parse(const unsigned char *buf, size_t len, struct lk_result *r)
{
    struct lk_cursor c = {buf, buf + len};
    uint32_t i;

    memset(r, 0, sizeof *r);
    /* Version 1 streams (an older tracer) end the header before limits. */
    if (lk_take(&c, &r->h, MW__LEAK_RESULT_V1_SIZE) < 0 || r->h.magic != MW__LEAK_MAGIC ||
        (r->h.version != 1 && r->h.version != MW__LEAK_VERSION))
        return -EINVAL;
    if (r->h.version > 1 && lk_take(&c, (char *)&r->h + MW__LEAK_RESULT_V1_SIZE,
                                    sizeof r->h - MW__LEAK_RESULT_V1_SIZE) < 0)
        return -EINVAL;
    /* Each element takes at least a few bytes: bound the counts by what is left. */
    if (r->h.nmodules > len / sizeof(mw__leak_module_t) || r->h.ntraces > len / 4 ||
        r->h.nrecords > len / sizeof(mw__leak_lossrec_t) || r->h.fault_depth > len / 8)
        return -EINVAL;
    r->mods = calloc(r->h.nmodules + 1, sizeof *r->mods);
    r->trace_ips = calloc(r->h.ntraces + 1, sizeof *r->trace_ips);
    r->trace_depth = calloc(r->h.ntraces + 1, sizeof *r->trace_depth);
    r->recs = calloc(r->h.nrecords + 1, sizeof *r->recs);
    r->fault = calloc(r->h.fault_depth + 1, sizeof *r->fault);
    if (!r->mods || !r->trace_ips || !r->trace_depth || !r->recs || !r->fault)
        goto bad;
    for (i = 0; i < r->h.nmodules; i++) {
        mw__leak_module_t m;
        if (lk_take(&c, &m, sizeof m) < 0 || m.path_len > 4096)
            goto bad;
        r->mods[i].bias = m.bias;
        r->mods[i].lo = m.lo;
        r->mods[i].hi = m.hi;
        r->mods[i].path = malloc(m.path_len + 1);
        if (!r->mods[i].path || lk_take(&c, r->mods[i].path, m.path_len) < 0)
            goto bad;
        r->mods[i].path[m.path_len] = '\0';
    }
    for (i = 0; i < r->h.ntraces; i++) {
        uint32_t d;
        if (lk_take(&c, &d, sizeof d) < 0 || d > 4096)
            goto bad;
        r->trace_depth[i] = d;
        r->trace_ips[i] = calloc(d + 1, sizeof(uint64_t));
        if (!r->trace_ips[i] || lk_take(&c, r->trace_ips[i], d * sizeof(uint64_t)) < 0)
            goto bad;
    }
    for (i = 0; i < r->h.nrecords; i++) {
        if (lk_take(&c, &r->recs[i], sizeof r->recs[i]) < 0 || r->recs[i].kind > 3 ||
            (r->recs[i].trace >= r->h.ntraces && r->recs[i].trace != UINT32_MAX))
            goto bad;
    }
    if (lk_take(&c, r->fault, r->h.fault_depth * sizeof(uint64_t)) < 0)
        goto bad;
    return 0;
bad:
    lk_result_free(r);
    return -EINVAL;
}

void lk_result_free(struct lk_result *r)
{
    uint32_t i;

    if (r->mods)
        for (i = 0; i < r->h.nmodules; i++)
            free(r->mods[i].path);
    if (r->trace_ips)
        for (i = 0; i < r->h.ntraces; i++)
            free(r->trace_ips[i]);
    free(r->mods);
    free(r->trace_ips);
    free(r->trace_depth);
    free(r->recs);
    free(r->fault);
    memset(r, 0, sizeof *r);
}

const char *lk_commas(uint64_t v, char *buf, size_t len)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), i, o = 0;

    for (i = 0; i < n && (size_t)o + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

int lk_parse_kinds(const char *s, unsigned *mask)
{
    static const char *const names[] = {"definite", "indirect", "possible", "reachable"};
    unsigned m = 0;
    const char *p = s;

    if (strcmp(s, "all") == 0) {
        *mask = LK_KIND_ALL;
        return 0;
    }
    if (strcmp(s, "none") == 0) {
        *mask = 0;
        return 0;
    }
    while (*p) {
        size_t n = strcspn(p, ","), k;
        int found = 0;
        for (k = 0; k < 4; k++)
            if (strlen(names[k]) == n && strncmp(p, names[k], n) == 0) {
                m |= 1u << k;
                found = 1;
            }
        if (!found || n == 0)
            return -EINVAL;
        p += n;
        if (*p == ',') {
            p++;
            if (!*p)
                return -EINVAL;
        }
    }
    if (!*s)
        return -EINVAL;
    *mask = m;
    return 0;
}

void lk_command_arg(mw__sb_t *sb, const char *arg)
{
    const unsigned char *p;

    /* As memcheck's Command: line: bytes outside printable ASCII become '_', and a space,
     * backslash, < or > is escaped with a backslash, so the line can be pasted into a shell. */
    for (p = (const unsigned char *)arg; *p; p++) {
        unsigned char c = *p < 32 || *p > 127 ? '_' : *p;
        if (strchr(" \\<>", c))
            mw__sb_putc(sb, '\\');
        mw__sb_putc(sb, (char)c);
    }
}
