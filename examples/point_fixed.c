/* The seed's fixed program: the two Points are freed, so memcheck's and memwalk's heap summary
 * read "in use at exit: 0 bytes in 0 blocks" and "3 allocs, 3 frees" (the third block is
 * stdout's buffer, which the C library releases at exit). */
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
    free(p1);
    free(p2);
    return 0;
}
