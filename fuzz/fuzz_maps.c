/* libFuzzer target for the maps and smaps parsers: any input must parse or be rejected with
 * -EINVAL, what parses must hold the parser's promises (sorted, disjoint, non-empty), and the
 * fast path for smaps key lines must agree with the general one, line numbers included. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps/maps_int.h"
#include "memwalk/maps.h"

static void check(const mw_maps_t *m)
{
    size_t i;
    char *svg;

    for (i = 0; i < m->count; i++) {
        const mw_region_t *r = &m->regions[i];
        if (r->start >= r->end || (i && r->start < m->regions[i - 1].end))
            abort();
        if ((unsigned)r->kind >= MW_REGION_KIND_COUNT || !r->path)
            abort();
        if (mw_maps_find(m, r->start) != r || mw_maps_find(m, r->end - 1) != r)
            abort();
        (void)mw_maps_kind_at(m, r->start);
        (void)mw_maps_section_at(m, r->start);
    }
    if (mw_maps_svg(m, &svg) == 0)
        free(svg);
}

static int str_differ(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* Two parses of the same smaps text: the same regions, figures and fields (when both kept
 * them). */
static void same(const mw_maps_t *a, const mw_maps_t *b)
{
    size_t i, f;

    if (a->count != b->count)
        abort();
    for (i = 0; i < a->count; i++) {
        const mw_region_t *x = &a->regions[i], *y = &b->regions[i];
        if (x->start != y->start || x->end != y->end || strcmp(x->path, y->path) != 0 ||
            x->size_kb != y->size_kb || x->rss_kb != y->rss_kb || x->pss_kb != y->pss_kb ||
            x->shared_dirty_kb != y->shared_dirty_kb ||
            x->private_dirty_kb != y->private_dirty_kb || x->swap_kb != y->swap_kb ||
            x->locked_kb != y->locked_kb || str_differ(x->vm_flags, y->vm_flags) ||
            x->has_smaps != y->has_smaps)
            abort();
        if (x->fields && y->fields) {
            if (x->nfields != y->nfields)
                abort();
            for (f = 0; f < x->nfields; f++)
                if (strcmp(x->fields[f].key, y->fields[f].key) != 0 ||
                    x->fields[f].value != y->fields[f].value)
                    abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned flags[] = {0, MW_MAPS_SMAPS};
    const char *text = (const char *)data;
    mw_maps_t fast, general, named;
    size_t i, line = 0, gline = 0, nline = 0;
    int r, g, n;

    for (i = 0; i < 2; i++) {
        mw_maps_t m;
        line = 0;
        r = mw_maps_parse(text, size, flags[i], &m, &line);
        if (r == 0) {
            check(&m);
            mw_maps_free(&m);
        } else if (r != -EINVAL || line == 0) {
            abort(); /* only malformed input may fail, and it must say where */
        }
    }
    r = mw__maps_parse_text(text, size, MW_MAPS_SMAPS, &fast, &line);
    g = mw__maps_parse_text(text, size, MW_MAPS_SMAPS | MW__MAPS_GENERAL_ONLY, &general, &gline);
    n = mw__maps_parse_text(text, size, MW_MAPS_SMAPS | MW_MAPS_NO_FIELDS, &named, &nline);
    if (r != g || r != n || (r && (line != gline || line != nline)))
        abort();
    if (r == 0) {
        same(&fast, &general);
        same(&fast, &named);
        for (i = 0; i < named.count; i++)
            if (named.regions[i].fields)
                abort();
        mw_maps_free(&fast);
        mw_maps_free(&general);
        mw_maps_free(&named);
    }
    return 0;
}
