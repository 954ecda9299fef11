/* Binary trees with threads, in the manner of the Computer Language Benchmarks Game's
 * binary-trees: a stretch tree of depth MAX + 1, then a long-lived tree of depth MAX that stays
 * live, while THREADS threads share the work of building and walking 2^(MAX - d + 4) trees of
 * each depth d = 4, 6, ..., MAX. Prints the wall time, the peak RSS and the collector's longest
 * pause (memwalk: mw_gc_get_stats; Boehm GC: its collection start and end events).
 *
 *   mtbinary [THREADS] [MAX]        (defaults 2 and 19)
 */
#include "alloc.h"

#include <stdint.h>

typedef struct bnode {
    struct bnode *left, *right;
} bnode;

static bnode *make(int depth)
{
    bnode *n = BENCH_NEW(sizeof *n);
    if (!n)
        bench_oom();
    if (depth > 0) {
        n->left = make(depth - 1);
        n->right = make(depth - 1);
    } else {
        n->left = n->right = NULL;
    }
    return n;
}

static long check(const bnode *n)
{
    return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

static void drop(bnode *n)
{
#if !BENCH_COLLECTED
    if (n->left) {
        drop(n->left);
        drop(n->right);
    }
    BENCH_FREE(n);
#else
    (void)n;
#endif
}

#if defined(BENCH_BOEHM)
/* Boehm GC reports no pause figure: time its collections from their start and end events. */
static double gc_started, gc_max;

static void on_event(GC_EventType e)
{
    if (e == GC_EVENT_START) {
        gc_started = bench_now_ms();
    } else if (e == GC_EVENT_END && gc_started > 0) {
        double d = bench_now_ms() - gc_started;
        if (d > gc_max)
            gc_max = d;
    }
}
#endif

static double pause_max_ms(void)
{
#if defined(BENCH_MEMWALK)
    mw_gc_stats_t st;
    mw_gc_get_stats(&st);
    return (double)st.pause_max_ns / 1e6;
#elif defined(BENCH_BOEHM)
    return gc_max;
#else
    return 0;
#endif
}

struct work {
    pthread_mutex_t lock;
    int depth;     /* the depth being worked on */
    long left;     /* its trees not yet taken */
    long checksum; /* of every tree walked */
};

static struct work w = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};

/* Takes up to 64 trees of the current depth at a time. */
static void *worker(void *arg)
{
    long sum = 0;

    (void)arg;
    for (;;) {
        long n, i;
        int depth;
        pthread_mutex_lock(&w.lock);
        n = w.left < 64 ? w.left : 64;
        w.left -= n;
        depth = w.depth;
        pthread_mutex_unlock(&w.lock);
        if (!n)
            break;
        for (i = 0; i < n; i++) {
            bnode *t = make(depth);
            sum += check(t);
            drop(t);
        }
    }
    pthread_mutex_lock(&w.lock);
    w.checksum += sum;
    pthread_mutex_unlock(&w.lock);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2, max = argc > 2 ? atoi(argv[2]) : 19, d, i;
    pthread_t t[64];
    bnode *stretch, *long_lived;
    long sum;
    double t0;
    struct rusage ru;

    if (threads < 1 || threads > 64 || max < 6 || max > 24) {
        fprintf(stderr, "usage: mtbinary [THREADS 1..64] [MAX 6..24]\n");
        return 2;
    }
    BENCH_INIT();
#if defined(BENCH_BOEHM)
    GC_set_on_collection_event(on_event);
#endif
    t0 = bench_now_ms();
    stretch = make(max + 1);
    sum = check(stretch);
    drop(stretch);
    stretch = NULL;
    long_lived = make(max);
    for (d = 4; d <= max; d += 2) {
        w.depth = d;
        w.left = 1L << (max - d + 4);
        for (i = 0; i < threads; i++)
            if (pthread_create(&t[i], NULL, worker, NULL) != 0) {
                fprintf(stderr, "mtbinary: cannot start a thread\n");
                return 3;
            }
        for (i = 0; i < threads; i++)
            pthread_join(t[i], NULL);
    }
    sum += w.checksum + check(long_lived);
    getrusage(RUSAGE_SELF, &ru);
    printf("bench=mtbinary-%d allocator=%s wall_ms=%.1f cpu_ms=%.1f maxrss_kb=%ld check=%ld",
           threads, BENCH_NAME, bench_now_ms() - t0, bench_cpu_ms(), ru.ru_maxrss, sum);
    if (BENCH_COLLECTED)
        printf(" pause_max_ms=%.1f", pause_max_ms());
    printf("\n");
    drop(long_lived);
    return 0;
}
