/* Victim: everything allocated is freed. */
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *bufs[10];
    int i;

    for (i = 0; i < 10; i++) {
        bufs[i] = malloc(32 + i);
        memset(bufs[i], i, 32 + i);
    }
    for (i = 0; i < 10; i++)
        free(bufs[i]);
    return 0;
}
