/* Victim: blocks allocated inside a dlopen'ed plugin, which is then dlclose'd (the unwinder must
 * forget its rules) and loaded again; one plugin block is kept, one lost, and main allocates
 * after the unload. */
#include <dlfcn.h>
#include <stdlib.h>

void *kept_from_plugin;

__attribute__((noinline)) static int round_trip(const char *path, int keep)
{
    void *h = dlopen(path, RTLD_NOW);
    void *(*make)(size_t);
    void *volatile p;

    if (!h)
        return 1;
    *(void **)&make = dlsym(h, "plugin_make");
    if (!make)
        return 1;
    p = make(keep ? 64 : 128);
    if (keep)
        kept_from_plugin = p;
    p = NULL;
    return dlclose(h);
}

int main(int argc, char **argv)
{
    char *volatile after;

    (void)argc;
    if (!argv[1] || round_trip(argv[1], 0) || round_trip(argv[1], 1))
        return 1;
    after = malloc(33); /* @site main */
    after = NULL;
    return 0;
}
