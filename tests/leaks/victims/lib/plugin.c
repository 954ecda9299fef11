/* A plugin for the dl_plugin victim: allocates from inside a shared object that is later
 * unloaded. */
#include <stdlib.h>
#include <string.h>

void *plugin_make(size_t n)
{
    char *p = malloc(n);

    if (p)
        memset(p, 7, n);
    return p;
}
