/* Checks that allocating does not change errno (programs such as python3 rely on it), through
 * enough allocations from enough different stacks to grow the profile's tables. Exits 0 when
 * errno stayed 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void *deep(int n)
{
    if (n == 0)
        return malloc(24);
    return deep(n - 1);
}

int main(void)
{
    int i, bad = 0;
    void *keep[4096];

    for (i = 0; i < 4096; i++) {
        errno = 0;
        keep[i] = deep(i % 40);
        if (errno != 0)
            bad++;
        if (i % 3 == 0) {
            free(keep[i]);
            keep[i] = NULL;
            if (errno != 0)
                bad++;
        }
    }
    for (i = 0; i < 4096; i++)
        free(keep[i]);
    if (bad)
        fprintf(stderr, "errno changed %d times\n", bad);
    return bad ? 1 : 0;
}
