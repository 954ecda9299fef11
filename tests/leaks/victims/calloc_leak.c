/* Victim: calloc'd blocks, one leaked and one freed. */
#include <stdlib.h>

int main(void)
{
    int *volatile a = calloc(10, sizeof(int)); /* @site main */
    int *b = calloc(100, sizeof(int));

    free(b);
    a = NULL;
    return 0;
}
