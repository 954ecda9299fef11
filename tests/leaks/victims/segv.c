/* Victim: leaks, then dies of SIGSEGV: the report still comes, after the signal's. */
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *volatile p = malloc(64); /* @site main */
    volatile int *volatile bad = NULL;

    memset(p, 0, 64);
    p = NULL;
    *bad = 1;
    return 0;
}
