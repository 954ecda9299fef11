/* A phase-shaped heap: a build-up from three sites, the peak, everything freed, then a second
 * smaller peak grown by realloc. The heap profiler's tests compare its profile with massif's. */
#include <stdlib.h>
#include <string.h>

#define N 400

static char *table[N];

__attribute__((noinline)) static char *make_row(size_t n)
{
    char *p = malloc(n);
    memset(p, 1, n);
    return p;
}

__attribute__((noinline)) static char *make_index(size_t n)
{
    return calloc(n, 1);
}

__attribute__((noinline)) static void build(void)
{
    int i;

    for (i = 0; i < N; i++)
        table[i] = i % 4 == 0 ? make_index(2048) : make_row(8192);
}

__attribute__((noinline)) static void teardown(void)
{
    int i;

    for (i = 0; i < N; i++) {
        free(table[i]);
        table[i] = NULL;
    }
}

__attribute__((noinline)) static char *grow(void)
{
    char *buf = NULL;
    size_t n;

    for (n = 4096; n <= 1u << 20; n *= 2) {
        buf = realloc(buf, n);
        memset(buf, 2, n);
    }
    return buf;
}

int main(void)
{
    char *volatile small = malloc(100), *big;

    build();
    teardown();
    big = grow();
    free(big);
    free(small);
    return 0;
}
