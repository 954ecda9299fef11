/* The seed's leaky program: two Points are allocated and printed, and never freed.
 * `memwalk leaks` and valgrind both report "definitely lost: 16 bytes in 2 blocks". */
#include <stdio.h>
#include <stdlib.h>

typedef struct point {
    int x;
    int y;
} point;

/* Prints a label, then the address in hexadecimal and in decimal. */
static void p_mem(const char *label, const void *p)
{
    printf("%s:\t%p\t%ld\n", label, p, (long)p);
}

int main(void)
{
    point *p1 = malloc(sizeof *p1);
    p_mem("P1", p1);
    point *p2 = malloc(sizeof *p2);
    p_mem("P2", p2);
    return 0;
}
