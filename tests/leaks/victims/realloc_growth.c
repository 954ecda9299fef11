/* Victim: a buffer grown by realloc (each realloc is one alloc and one free), one grown buffer
 * leaked, one kept, one shrunk to nothing with realloc(p, 0). */
#include <stdlib.h>
#include <string.h>

char *kept;

__attribute__((noinline)) static char *grow(int steps)
{
    char *buf = NULL;
    size_t n = 16;
    int i;

    for (i = 0; i < steps; i++) {
        buf = realloc(buf, n); /* @site grow */
        memset(buf, i, n);
        n *= 2;
    }
    return buf;
}

int main(void)
{
    char *volatile lost = grow(10);
    char *z;

    kept = grow(5);
    lost = NULL;
    z = malloc(10);
    z = realloc(z, 0);
    (void)z;
    return 0;
}
