/* Victim: only interior pointers are left: those blocks are possibly lost. A block pointed to
 * only from a possibly lost block is possibly lost too. */
#include <stdlib.h>
#include <string.h>

char *middle;
void **second;

__attribute__((noinline)) static void setup(void)
{
    char *p = malloc(64); /* @site setup */
    void **q = malloc(4 * sizeof(void *));
    memset(p, 0, 64);
    middle = p + 16;
    q[0] = malloc(48); /* reachable only from q, which is only possibly reachable */
    q[1] = NULL;
    second = q + 1;
}

int main(void)
{
    setup();
    return 0;
}
