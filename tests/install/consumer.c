/* A program built only from an installed memwalk (pkg-config --cflags --libs memwalk): it checks
 * that the header and the loaded library agree, then uses the library: it reads its own map and
 * prints the kind of memory that holds one of its globals. */
#include <memwalk/memwalk.h>
#include <stdio.h>
#include <string.h>

int consumer_global = 1;

int main(void)
{
    const mw_region_t *r;
    mw_maps_t m;
    int rc, kind;

    printf("memwalk %s (library %s)\n", MEMWALK_VERSION_STRING, mw_version());
    if (strcmp(MEMWALK_VERSION_STRING, mw_version()) != 0)
        return 1;
    rc = mw_maps_read(0, 0, &m);
    if (rc != 0) {
        printf("mw_maps_read: error %d\n", rc);
        return 1;
    }
    r = mw_maps_find(&m, (uintptr_t)&consumer_global);
    kind = mw_maps_kind_at(&m, (uintptr_t)&consumer_global);
    printf("consumer_global: %s in %s\n",
           kind < 0 ? "unmapped" : mw_region_kind_name((enum mw_region_kind)kind),
           r ? r->path : "?");
    rc = kind == MW_REGION_DATA ? 0 : 1;
    mw_maps_free(&m);
    return rc;
}
