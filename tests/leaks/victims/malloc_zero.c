/* Victim: malloc(0) is a 0-byte block (lost here), free(NULL) counts as nothing. */
#include <stdlib.h>

int main(void)
{
    void *volatile z = malloc(0); /* @site main */
    void *volatile kept_zero;

    free(NULL);
    free(NULL);
    kept_zero = malloc(0);
    z = NULL;
    return kept_zero == NULL;
}
