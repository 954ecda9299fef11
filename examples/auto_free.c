/* The classic AUTO_FREE Point program on memwalk's cleanup.h: points on the heap released when
 * main's scope ends, last declared first; valgrind finds nothing in use at exit. */
#include <stdio.h>
#include <stdlib.h>

#include <memwalk/cleanup.h>

typedef struct point {
    int x;
    int y;
    const char *name;
} point;

static point *point_new(const char *name, int x, int y)
{
    point *p = malloc(sizeof *p);

    if (p) {
        p->x = x;
        p->y = y;
        p->name = name;
    }
    return p;
}

static void point_free(point *p)
{
    printf("point_free: %s {x: %d, y: %d} at %p\n", p->name, p->x, p->y, (void *)p);
    free(p);
}

/* Once per type: MW_AUTO(point) now means "a point * released by point_free". */
MW_DEFINE_CLEANUP(point, point_free)

int main(void)
{
    /* The plain form: any malloc'd pointer, released with free(). */
    mw_autofree point *origin = malloc(sizeof *origin);
    /* The typed form: released with the type's own function. */
    MW_AUTO(point) p1 = point_new("p1", 1, 1);
    MW_AUTO(point) p2 = point_new("p2", 1, 32);

    if (!origin || !p1 || !p2) {
        perror("auto_free: malloc");
        return 1; /* whatever was allocated is released on this path too */
    }
    *origin = (point){0, 0, "origin"};
    printf("%s: %p {x: %d, y: %d}\n", origin->name, (void *)origin, origin->x, origin->y);
    printf("%s: %p {x: %d, y: %d}\n", p1->name, (void *)p1, p1->x, p1->y);
    printf("%s: %p {x: %d, y: %d}\n", p2->name, (void *)p2, p2->x, p2->y);
    printf("leaving main: cleanups run now, in reverse order\n");
    return 0;
}
