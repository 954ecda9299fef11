/* The seed's Python Point with __del__, told in C on the memwalk collector: points are allocated
 * and never freed; once the program drops them, a collection finds them unreachable and each
 * one's finalizer (the __del__ of C) prints, exactly once. */
#include <memwalk/gc.h>
#include <stdio.h>
#include <string.h>

typedef struct point {
    int x, y;
} point;

static int collected;
static struct point *p1; /* a global: the program's one point in use */

static void point_del(void *obj, void *ctx)
{
    const point *p = obj;

    (void)ctx;
    collected++;
    printf("  del {x: %d, y: %d}: collected, nobody called free\n", p->x, p->y);
}

static point *point_new(int x, int y)
{
    point *p = mw_gc_malloc(sizeof *p);

    if (!p) {
        perror("gc_points: mw_gc_malloc");
        return NULL;
    }
    p->x = x;
    p->y = y;
    mw_gc_set_finalizer(p, point_del, NULL);
    return p;
}

static void point_print(const point *p)
{
    printf("{x: %d, y: %d}\n", p->x, p->y);
}

/* Makes points and forgets them: once this returns, nothing refers to them. */
__attribute__((noinline)) static void make_and_drop(int n)
{
    for (int i = 1; i <= n; i++) {
        point *p = point_new(i, 10 * i);
        if (p)
            point_print(p);
    }
}

/* A conservative collector keeps whatever a stale stack slot still points to; wiping the stack
 * below us first makes the demonstration exact (real programs do not need this). */
__attribute__((noinline)) static void wipe_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

int main(void)
{
    mw_gc_stats_t st;

    p1 = point_new(1, 1);
    if (!p1)
        return 1;
    printf("p1 = ");
    point_print(p1);
    printf("three more points, dropped at once:\n");
    make_and_drop(3);

    printf("collecting (p1 is still in use):\n");
    wipe_stack();
    mw_gc_collect();

    printf("p1 is still ");
    point_print(p1);
    p1 = NULL;
    printf("p1 dropped, collecting:\n");
    wipe_stack();
    mw_gc_collect();

    mw_gc_get_stats(&st);
    printf("%d points collected, %llu finalizers run, %llu collections\n", collected,
           (unsigned long long)st.finalizers_run, (unsigned long long)st.collections);
    return collected == 4 ? 0 : 1;
}
