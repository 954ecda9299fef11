/* Binary trees on Boehm GC's API, as the benchmarks game has them: a stretch tree, a long-lived
 * tree, then for depths 4, 6, ... MAX as many short-lived trees as make 2^(MAX+4) nodes, each
 * walked once. Built against Boehm's own <gc.h> and linked with libgc.so.1; `memwalk gc-run`
 * runs the same binary on memwalk's collector. Its output does not depend on the collector.
 * usage: binary_trees [MAX_DEPTH]   (default 16) */
#include <gc.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct node {
    struct node *left, *right;
} node;

static node *make(int depth)
{
    node *n = GC_NEW(node);

    if (!n) {
        fprintf(stderr, "binary_trees: out of memory\n");
        exit(3);
    }
    if (depth > 0) {
        n->left = make(depth - 1);
        n->right = make(depth - 1);
    }
    return n;
}

static long check(const node *n)
{
    return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

int main(int argc, char **argv)
{
    int max = argc > 1 ? atoi(argv[1]) : 16, d;
    node *long_lived;

    if (max < 6 || max > 24) {
        fprintf(stderr, "binary_trees: MAX_DEPTH must be 6..24\n");
        return 2;
    }
    GC_INIT();
    printf("stretch tree of depth %d\t check: %ld\n", max + 1, check(make(max + 1)));
    long_lived = make(max);
    for (d = 4; d <= max; d += 2) {
        long iterations = 1L << (max - d + 4), sum = 0, i;
        for (i = 0; i < iterations; i++)
            sum += check(make(d));
        printf("%ld\t trees of depth %d\t check: %ld\n", iterations, d, sum);
    }
    printf("long lived tree of depth %d\t check: %ld\n", max, check(long_lived));
    return 0;
}
