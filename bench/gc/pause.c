/* Pause times with a large live heap: binary trees of 64-byte nodes are built until about
 * LIVE_MIB MiB are live (default 1024), then that many full collections are timed one by one;
 * prints the longest and the median pause (malloc has no collections: it only reports the build).
 *
 *   pause [LIVE_MIB] [--thread]
 *
 * --thread starts one more thread first, registered with the collector, that waits until the
 * end: a threaded program, where both collectors stop a thread and Boehm GC marks with its
 * parallel markers (it starts them with the first thread). */
#include "alloc.h"

#include <stdint.h>

#define TREE_DEPTH  17 /* 2^18 - 1 nodes of 64 bytes: 16 MiB a tree */
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

static pthread_mutex_t end_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t end_cond = PTHREAD_COND_INITIALIZER;
static int ended;

static void *idle_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&end_lock);
    while (!ended)
        pthread_cond_wait(&end_cond, &end_lock);
    pthread_mutex_unlock(&end_lock);
    return NULL;
}

int main(int argc, char **argv)
{
    long live_mib = 1024, ntrees, i, nodes = 0;
    int threaded = 0;
    tnode **trees;
    double t0, build_ms, pause[COLLECTIONS], cpu[COLLECTIONS];
    struct rusage ru;
    pthread_t idle;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--thread"))
            threaded = 1;
        else if ((live_mib = atol(argv[i])) < 16) {
            fprintf(stderr, "usage: pause [LIVE_MIB >= 16] [--thread]\n");
            return 2;
        }
    }
    ntrees = (live_mib << 20) / ((2L << TREE_DEPTH) * (long)sizeof(tnode));
    BENCH_INIT();
    if (threaded && pthread_create(&idle, NULL, idle_thread, NULL) != 0) {
        fprintf(stderr, "pause: cannot start a thread\n");
        return 3;
    }
    t0 = bench_now_ms();
    trees = BENCH_NEW(ntrees * sizeof *trees);
    if (!trees)
        bench_oom();
    for (i = 0; i < ntrees; i++)
        trees[i] = build(TREE_DEPTH);
    build_ms = bench_now_ms() - t0;
    for (i = 0; i < COLLECTIONS; i++) {
        double s = bench_now_ms(), c = bench_cpu_ms();
        BENCH_COLLECT();
        pause[i] = bench_now_ms() - s;
        cpu[i] = bench_cpu_ms() - c;
    }
    for (i = 0; i < ntrees; i++)
        nodes += count(trees[i]);
    if (threaded) {
        pthread_mutex_lock(&end_lock);
        ended = 1;
        pthread_cond_signal(&end_cond);
        pthread_mutex_unlock(&end_lock);
        pthread_join(idle, NULL);
    }
    qsort(pause, COLLECTIONS, sizeof pause[0], cmp);
    qsort(cpu, COLLECTIONS, sizeof cpu[0], cmp);
    getrusage(RUSAGE_SELF, &ru);
    printf("bench=pause%s allocator=%s wall_ms=%.1f maxrss_kb=%ld check=%ld live_mib=%ld",
           threaded ? "-thread" : "", BENCH_NAME, build_ms, ru.ru_maxrss, nodes,
           (long)((nodes * (long)sizeof(tnode)) >> 20));
    if (BENCH_COLLECTED)
        printf(" pause_max_ms=%.1f pause_median_ms=%.1f pause_cpu_median_ms=%.1f",
               pause[COLLECTIONS - 1], pause[COLLECTIONS / 2], cpu[COLLECTIONS / 2]);
    printf("\n");
    return 0;
}
