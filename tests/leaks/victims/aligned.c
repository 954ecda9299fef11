/* Victim: aligned allocations (posix_memalign, aligned_alloc, memalign, valloc), counted at
 * their requested sizes. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

void *keep_me;

int main(void)
{
    void *volatile p = NULL;
    void *q;

    if (posix_memalign((void **)&p, 64, 100) != 0) /* @site main */
        return 1;
    memset(p, 0, 100);
    p = aligned_alloc(128, 256);
    memset(p, 0, 256);
    p = memalign(256, 300);
    memset(p, 0, 300);
    q = valloc(1000);
    memset(q, 0, 1000);
    keep_me = valloc(5000);
    free(q);
    p = NULL;
    return 0;
}
