/* Victim: many blocks definitely lost, from a loop and from three call sites. */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void *make(size_t n)
{
    void *p = malloc(n); /* @site make */
    memset(p, 0x5a, n);
    return p;
}

__attribute__((noinline)) static void from_loop(void)
{
    int i;

    for (i = 0; i < 1000; i++) {
        char *volatile p = malloc(24 + i % 7); /* @site from_loop */
        p[0] = 1;
    }
}

int main(void)
{
    void *volatile a = make(10);
    a = make(20);
    a = make(30);
    a = NULL;
    from_loop();
    return 0;
}
