/* Pause times with a 1 GiB live heap: binary trees of 64-byte nodes are built until about 1 GiB
 * is live, then that many full collections are timed one by one; prints the longest and the
 * median pause (malloc has no collections: it only reports the build). */
#include "alloc.h"

#include <stdint.h>

#define LIVE_BYTES  (1024L << 20)
#define TREE_DEPTH  20 /* 2^21 - 1 nodes of 64 bytes: 128 MiB a tree */
#define COLLECTIONS 7

typedef struct tnode {
    struct tnode *left, *right;
    uint64_t data[6];
} tnode;

static tnode *build(int depth)
{
    tnode *n = BENCH_NEW(sizeof *n);
    if (!n)
        bench_oom();
    n->data[0] = (uint64_t)depth;
    n->left = depth ? build(depth - 1) : NULL;
    n->right = depth ? build(depth - 1) : NULL;
    return n;
}

static long count(const tnode *n)
{
    return n ? 1 + count(n->left) + count(n->right) : 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    long ntrees = LIVE_BYTES / ((2L << TREE_DEPTH) * (long)sizeof(tnode)), i, nodes = 0;
    tnode **trees;
    double t0, build_ms, pause[COLLECTIONS];
    struct rusage ru;

    BENCH_INIT();
    t0 = bench_now_ms();
    trees = BENCH_NEW(ntrees * sizeof *trees);
    if (!trees)
        bench_oom();
    for (i = 0; i < ntrees; i++)
        trees[i] = build(TREE_DEPTH);
    build_ms = bench_now_ms() - t0;
    for (i = 0; i < COLLECTIONS; i++) {
        double s = bench_now_ms();
        BENCH_COLLECT();
        pause[i] = bench_now_ms() - s;
    }
    for (i = 0; i < ntrees; i++)
        nodes += count(trees[i]);
    qsort(pause, COLLECTIONS, sizeof pause[0], cmp);
    getrusage(RUSAGE_SELF, &ru);
    printf("bench=pause allocator=%s wall_ms=%.1f maxrss_kb=%ld check=%ld live_mib=%ld", BENCH_NAME,
           build_ms, ru.ru_maxrss, nodes, nodes * (long)sizeof(tnode) >> 20);
    if (BENCH_COLLECTED)
        printf(" pause_max_ms=%.1f pause_median_ms=%.1f", pause[COLLECTIONS - 1],
               pause[COLLECTIONS / 2]);
    printf("\n");
    return 0;
}
