/* Victim: blocks held by a global and by a static local stay reachable. */
#include <stdlib.h>
#include <string.h>

char *global_holder;

__attribute__((noinline)) static char *cached(void)
{
    static char *cache;

    if (!cache) {
        cache = malloc(256); /* @site cached */
        memset(cache, 0, 256);
    }
    return cache;
}

int main(void)
{
    global_holder = malloc(128); /* @site main */
    memset(global_holder, 1, 128);
    return cached()[0];
}
