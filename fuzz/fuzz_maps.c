/* libFuzzer target for the maps and smaps parsers: any input must parse or be rejected with
 * -EINVAL, and what parses must hold the parser's promises (sorted, disjoint, non-empty). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned flags[] = {0, MW_MAPS_SMAPS};
    size_t i;

    for (i = 0; i < 2; i++) {
        mw_maps_t m;
        size_t line = 0;
        int r = mw_maps_parse((const char *)data, size, flags[i], &m, &line);
        if (r == 0) {
            check(&m);
            mw_maps_free(&m);
        } else if (r != -EINVAL || line == 0) {
            abort(); /* only malformed input may fail, and it must say where */
        }
    }
    return 0;
}
