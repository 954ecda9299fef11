/* Victim: one block definitely lost. */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void leak_one(void)
{
    char *volatile p = malloc(100); /* @site leak_one */
    memset(p, 1, 100);
}

int main(void)
{
    leak_one();
    return 0;
}
