/* One site holds most of the heap, twenty others hold a sliver each (under massif's 1 %
 * threshold, merged into one "in N places" line), and one holds a few percent. */
#include <stdlib.h>
#include <string.h>

#define SLIVERS 20

static void *keep[SLIVERS + 2][8];

#define SLIVER(k)                                          \
    __attribute__((noinline)) static void sliver_##k(void) \
    {                                                      \
        int i;                                             \
        for (i = 0; i < 8; i++)                            \
            keep[k][i] = malloc(200 + k);                  \
    }                                                      \
    static void sliver_##k(void) /* a declaration, for the semicolon after each use */
SLIVER(0);
SLIVER(1);
SLIVER(2);
SLIVER(3);
SLIVER(4);
SLIVER(5);
SLIVER(6);
SLIVER(7);
SLIVER(8);
SLIVER(9);
SLIVER(10);
SLIVER(11);
SLIVER(12);
SLIVER(13);
SLIVER(14);
SLIVER(15);
SLIVER(16);
SLIVER(17);
SLIVER(18);
SLIVER(19);

__attribute__((noinline)) static void *big(void)
{
    void *p = malloc(1 << 20);
    memset(p, 0, 1 << 20);
    return p;
}

__attribute__((noinline)) static void *medium(void)
{
    return calloc(1, 40000);
}

int main(void)
{
    void (*const f[SLIVERS])(void) = {sliver_0,  sliver_1,  sliver_2,  sliver_3,  sliver_4,
                                      sliver_5,  sliver_6,  sliver_7,  sliver_8,  sliver_9,
                                      sliver_10, sliver_11, sliver_12, sliver_13, sliver_14,
                                      sliver_15, sliver_16, sliver_17, sliver_18, sliver_19};
    void *b, *m;
    int k, i;

    for (k = 0; k < SLIVERS; k++)
        f[k]();
    b = big();
    m = medium();
    free(m);
    free(b);
    for (k = 0; k < SLIVERS; k++)
        for (i = 0; i < 8; i++)
            free(keep[k][i]);
    return 0;
}
