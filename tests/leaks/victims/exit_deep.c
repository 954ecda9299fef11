/* Victim: exit() called deep in the stack: blocks held by the live frames above it stay
 * reachable, a block dropped before is definitely lost. */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void level3(char *held)
{
    char *volatile here = malloc(30); /* @site level3 */
    memset(here, 0, 30);
    if (held)
        exit(0);
}

__attribute__((noinline)) static void level2(void)
{
    char *volatile held = malloc(20); /* @site level2 */
    memset(held, 0, 20);
    level3(held);
    free(held);
}

__attribute__((noinline)) static void level1(void)
{
    char *volatile dropped = malloc(10); /* @site level1 */
    memset(dropped, 0, 10);
    dropped = NULL;
    level2();
}

int main(void)
{
    level1();
    return 0;
}
