/* The allocation-heavy benchmark program: millions of mixed malloc/calloc/realloc/free calls on
 * a working set of about 100,000 live blocks of mixed sizes, each block written when it is
 * allocated, as real programs do. A fixed seed makes every run do the same work.
 * Usage: alloc_heavy [operations] [live blocks] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9E3779B97F4A7C15ull;

static inline uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/* Mostly small blocks, a few medium ones, rare large ones: the shape of real heaps. */
static size_t pick_size(void)
{
    uint64_t r = next() % 1000;

    if (r < 700)
        return 16 + next() % 112;
    if (r < 950)
        return 128 + next() % 896;
    if (r < 998)
        return 1024 + next() % 7168;
    return 65536 + next() % 65536;
}

__attribute__((noinline)) static void *make(size_t n)
{
    char *p = (next() & 7) == 0 ? calloc(1, n) : malloc(n);

    if (p)
        memset(p, (int)n, n < 64 ? n : 64);
    return p;
}

__attribute__((noinline)) static void *grow(void *p, size_t n)
{
    char *q = realloc(p, n);

    if (q)
        q[n - 1] = 1;
    return q;
}

int main(int argc, char **argv)
{
    long ops = argc > 1 ? atol(argv[1]) : 6000000;
    long live = argc > 2 ? atol(argv[2]) : 100000;
    void **slots = calloc((size_t)live, sizeof(void *));
    size_t *sizes = calloc((size_t)live, sizeof(size_t));
    uint64_t sum = 0;
    long i;

    if (!slots || !sizes)
        return 1;
    for (i = 0; i < live; i++) {
        sizes[i] = pick_size();
        slots[i] = make(sizes[i]);
    }
    for (i = 0; i < ops; i++) {
        size_t k = (size_t)(next() % (uint64_t)live);
        uint64_t what = next() % 10;
        if (what < 6) { /* replace */
            free(slots[k]);
            sizes[k] = pick_size();
            slots[k] = make(sizes[k]);
        } else if (what < 9) { /* resize */
            sizes[k] = sizes[k] / 2 + pick_size();
            slots[k] = grow(slots[k], sizes[k]);
        } else { /* read */
            sum += ((unsigned char *)slots[k])[0];
        }
    }
    for (i = 0; i < live; i++)
        free(slots[i]);
    free(slots);
    free(sizes);
    printf("%llu\n", (unsigned long long)sum);
    return 0;
}
