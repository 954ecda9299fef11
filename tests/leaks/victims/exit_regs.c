/* Victim: at -O2 the pointer lives in a callee-saved register when exit() is called; exit()
 * saves it on the stack, where memcheck finds it: still reachable, not definitely lost (issue
 * 9, 2). */
#include <stdlib.h>

__attribute__((noipa)) void use(void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

int main(void)
{
    void *p = malloc(100); /* @site main */

    use(p);
    use(p);
    exit(0);
}
