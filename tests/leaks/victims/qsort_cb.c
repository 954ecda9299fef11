/* Victim: blocks allocated inside a qsort comparator, so their stacks go through libc's qsort,
 * built without frame pointers: the unwinder must get from the comparator back to main. */
#include <stdlib.h>

void **log_blocks;
static size_t nlog;

__attribute__((noinline)) static int cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    if (nlog < 64)
        log_blocks[nlog++] = malloc(8); /* @site cmp */
    return (x > y) - (x < y);
}

int main(void)
{
    int v[32];
    int i;

    log_blocks = calloc(64, sizeof(void *));
    for (i = 0; i < 32; i++)
        v[i] = (i * 7919) % 101;
    qsort(v, 32, sizeof v[0], cmp); /* @site main */
    log_blocks = NULL;
    return v[0];
}
