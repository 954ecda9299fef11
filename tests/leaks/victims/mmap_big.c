/* Victim: blocks over the mmap threshold (each its own mapping): one leaked, one kept. */
#include <stdlib.h>

char *kept;

__attribute__((noinline)) static void touch(char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i += 4096)
        ((volatile char *)p)[i] = 1;
}

__attribute__((noinline)) static void lose_big(void)
{
    char *volatile big = malloc(1 << 20); /* @site lose_big */
    touch(big, 1 << 20);
    big = NULL;
}

__attribute__((noinline)) static long clobber(long n)
{
    volatile long acc = 0;
    long i;

    for (i = 0; i < n; i++)
        acc += i;
    return acc;
}

int main(void)
{
    lose_big();
    kept = malloc(300000);
    touch(kept, 300000);
    return clobber(1000) == 0;
}
