/* Explicit free and realloc: the heap must stay bounded when a program frees what it allocates.
 *
 *   freeloop free SIZE COUNT     COUNT times: allocate SIZE bytes, write them, free them
 *   freeloop realloc STEP COUNT  COUNT strings, each grown 20 times by STEP bytes with realloc;
 *                                each string is dropped when the next is done (the malloc build
 *                                frees it)
 *
 * Prints the usual result line plus the heap at the end (heap_kb: the collector's own figure;
 * malloc's arena for malloc) and the number of collections. */
#include "alloc.h"

#include <stdint.h>

#define GROWTHS 20

static char *volatile keep;

int main(int argc, char **argv)
{
    long count, i, k, check = 0;
    size_t size;
    double t0;

    if (argc != 4 || (strcmp(argv[1], "free") && strcmp(argv[1], "realloc"))) {
        fprintf(stderr, "usage: freeloop free SIZE COUNT | freeloop realloc STEP COUNT\n");
        return 2;
    }
    size = (size_t)atol(argv[2]);
    count = atol(argv[3]);
    BENCH_INIT();
    t0 = bench_now_ms();
    if (!strcmp(argv[1], "free")) {
        for (i = 0; i < count; i++) {
            char *p = BENCH_NEW(size);
            if (!p)
                bench_oom();
            p[0] = 1;
            p[size - 1] = (char)i;
            check += p[0];
            BENCH_EXPLICIT_FREE(p);
        }
    } else {
        for (i = 0; i < count; i++) {
            char *s = NULL;
            size_t len = 0;
            for (k = 0; k < GROWTHS; k++) {
                char *t = BENCH_REALLOC(s, len + size);
                if (!t)
                    bench_oom();
                memset(t + len, 'a' + (int)(k % 26), size);
                s = t;
                len += size;
            }
            check += s[len - 1] == 'a' + (GROWTHS - 1) % 26;
            BENCH_FREE(keep); /* malloc frees the string it drops; a collector finds it */
            keep = s;
        }
    }
    printf("bench=freeloop-%s-%zu allocator=%s wall_ms=%.1f cpu_ms=%.1f maxrss_kb=%ld heap_kb=%ld "
           "rss_kb=%ld collections=%ld check=%ld\n",
           argv[1], size, BENCH_NAME, bench_now_ms() - t0, bench_cpu_ms(), bench_maxrss_kb(),
           bench_heap_kb(), bench_rss_kb(), bench_collections(), check);
    return 0;
}
