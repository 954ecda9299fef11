/* Binary trees in the manner of the classic GCBench (Ellis, Kovac, Boehm): a stretch tree of
 * depth 18, a long-lived tree of depth 16 and a 500,000-double array that stay live throughout,
 * then for depths 4, 6, ... 16 as many short-lived trees as make up twice the stretch tree, built
 * top-down (populate an existing root) and bottom-up (children first). */
#include "alloc.h"

#define STRETCH_DEPTH    18
#define LONG_LIVED_DEPTH 16
#define ARRAY_SIZE       500000
#define MIN_DEPTH        4
#define MAX_DEPTH        16

typedef struct node {
    struct node *left, *right;
    int i, j;
} node;

static node *new_node(node *l, node *r)
{
    node *n = BENCH_NEW(sizeof *n);
    if (!n)
        bench_oom();
    n->left = l;
    n->right = r;
    n->i = n->j = 0;
    return n;
}

static void free_tree(node *n)
{
#if !BENCH_COLLECTED
    if (!n)
        return;
    free_tree(n->left);
    free_tree(n->right);
    BENCH_FREE(n);
#else
    (void)n;
#endif
}

static long nodes_in(int depth)
{
    return (1L << (depth + 1)) - 1;
}

/* Top-down: the root exists, the children are hung under it. */
static void populate(int depth, node *n)
{
    if (depth-- <= 0)
        return;
    n->left = new_node(NULL, NULL);
    n->right = new_node(NULL, NULL);
    populate(depth, n->left);
    populate(depth, n->right);
}

/* Bottom-up: the children exist before their parent. */
static node *make_tree(int depth)
{
    node *l, *r;
    if (depth <= 0)
        return new_node(NULL, NULL);
    l = make_tree(depth - 1);
    r = make_tree(depth - 1);
    return new_node(l, r);
}

static long check_tree(const node *n)
{
    return n ? 1 + check_tree(n->left) + check_tree(n->right) : 0;
}

static long construction(int depth)
{
    long iters = 2 * nodes_in(STRETCH_DEPTH) / nodes_in(depth), i, sum = 0;
    node *t;

    for (i = 0; i < iters; i++) {
        t = new_node(NULL, NULL);
        populate(depth, t);
        sum += t->left != NULL;
        free_tree(t);
    }
    for (i = 0; i < iters; i++) {
        t = make_tree(depth);
        sum += t->left != NULL;
        free_tree(t);
    }
    return sum;
}

int main(void)
{
    double t0;
    node *stretch, *long_lived;
    double *array;
    long sum = 0, i;
    int d;

    BENCH_INIT();
    t0 = bench_now_ms();
    stretch = make_tree(STRETCH_DEPTH);
    sum += check_tree(stretch) == nodes_in(STRETCH_DEPTH);
    free_tree(stretch);
    stretch = NULL;

    long_lived = new_node(NULL, NULL);
    populate(LONG_LIVED_DEPTH, long_lived);
    array = BENCH_NEW_ATOMIC(ARRAY_SIZE * sizeof(double));
    if (!array)
        bench_oom();
    for (i = 0; i < ARRAY_SIZE / 2; i++)
        array[i] = 1.0 / (double)(i + 1);

    for (d = MIN_DEPTH; d <= MAX_DEPTH; d += 2)
        sum += construction(d);

    /* Both must have survived every collection intact. */
    if (check_tree(long_lived) != nodes_in(LONG_LIVED_DEPTH) || array[1000] != 1.0 / 1001.0) {
        fprintf(stderr, "gcbench: the long-lived data was damaged\n");
        return 1;
    }
    bench_report("gcbench", bench_now_ms() - t0, sum);
    free_tree(long_lived);
    BENCH_FREE(array);
    return 0;
}
