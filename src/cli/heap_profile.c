/* Reading the heap profile stream a traced process sends (record.h), every length checked. */
#include "cli/heap_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
    const unsigned char *p, *end;
};

static int take(struct cursor *c, void *out, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return -1;
    memcpy(out, c->p, n);
    c->p += n;
    return 0;
}

int hp_profile_parse(const unsigned char *buf, size_t len, struct hp_profile *p)
{
    struct cursor c = {buf, buf + len};
    uint32_t i, k;

    memset(p, 0, sizeof *p);
    if (take(&c, &p->h, sizeof p->h) < 0 || p->h.magic != MW__PROF_MAGIC ||
        p->h.version != MW__PROF_VERSION || p->h.unit > MW__PROF_UNIT_MS)
        return -EINVAL;
    /* Each element takes some bytes: bound the counts by what is left. */
    if (p->h.ntraces > len / 8 || p->h.nsnaps > len / sizeof(mw__prof_snap_t))
        return -EINVAL;
    p->ips = calloc(p->h.ntraces + 1, sizeof *p->ips);
    p->depth = calloc(p->h.ntraces + 1, sizeof *p->depth);
    p->snaps = calloc(p->h.nsnaps + 1, sizeof *p->snaps);
    if (!p->ips || !p->depth || !p->snaps)
        goto bad;
    for (i = 0; i < p->h.ntraces; i++) {
        uint32_t d[2];
        if (take(&c, d, sizeof d) < 0 || d[0] > 4096)
            goto bad;
        p->depth[i] = d[0];
        p->ips[i] = calloc(d[0] + 1, sizeof(uint64_t));
        if (!p->ips[i] || take(&c, p->ips[i], d[0] * sizeof(uint64_t)) < 0)
            goto bad;
    }
    for (i = 0; i < p->h.nsnaps; i++) {
        struct hp_snap *s = &p->snaps[i];
        if (take(&c, &s->h, sizeof s->h) < 0 ||
            s->h.ndetail > (size_t)(c.end - c.p) / sizeof(mw__prof_site_t))
            goto bad;
        s->sites = calloc(s->h.ndetail + 1, sizeof *s->sites);
        if (!s->sites || take(&c, s->sites, s->h.ndetail * sizeof *s->sites) < 0)
            goto bad;
        for (k = 0; k < s->h.ndetail; k++) {
            if (s->sites[k].trace >= p->h.ntraces)
                goto bad;
            /* A block one thread allocated and another freed may have its free counted before
             * its allocation (each thread's events wait for its batched frees): its site, and
             * the heap, then read short by its size for a while. Both are 0 and the heap more
             * in truth; massif's trees never go below zero. */
            if ((int64_t)s->sites[k].bytes < 0) {
                s->h.heap -= s->sites[k].bytes; /* adds the deficit */
                s->sites[k].bytes = 0;
            }
        }
        if (i > 0 && s->h.time < p->snaps[i - 1].h.time)
            goto bad;
    }
    return 0;
bad:
    hp_profile_free(p);
    return -EINVAL;
}

void hp_profile_free(struct hp_profile *p)
{
    uint32_t i;

    if (p->ips)
        for (i = 0; i < p->h.ntraces; i++)
            free(p->ips[i]);
    if (p->snaps)
        for (i = 0; i < p->h.nsnaps; i++)
            free(p->snaps[i].sites);
    free(p->ips);
    free(p->depth);
    free(p->snaps);
    memset(p, 0, sizeof *p);
}

const char *hp_unit_name(const struct hp_profile *p)
{
    return p->h.unit == MW__PROF_UNIT_MS ? "ms" : "B";
}

const struct hp_snap *hp_peak(const struct hp_profile *p)
{
    const struct hp_snap *best = NULL;
    uint32_t i;

    for (i = 0; i < p->h.nsnaps; i++) {
        const struct hp_snap *s = &p->snaps[i];
        if (!(s->h.flags & MW__PROF_DETAILED))
            continue;
        if (s->h.flags & MW__PROF_PEAK)
            return s;
        if (!best || s->h.heap + s->h.extra > best->h.heap + best->h.extra)
            best = s;
    }
    return best;
}
