/* Four threads build their share of the heap from two sites each, wait for one another (so the
 * peak is the same whatever the interleaving: 4 x (96 x 4,096 + 32 x 16,384) = 3,670,016
 * bytes, plus the 4 x 64-byte results), then the main thread frees everything; a second round
 * churns small blocks concurrently, freeing in other threads than allocated them. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define SMALL   96
#define LARGE   32

static pthread_barrier_t built;
static void *blocks[THREADS][SMALL + LARGE];
static void *exchange[THREADS];

__attribute__((noinline)) static void *small_block(void)
{
    void *p = malloc(4096);
    memset(p, 1, 4096);
    return p;
}

__attribute__((noinline)) static void *large_block(void)
{
    void *p = calloc(1, 16384);
    return p;
}

static void *build(void *arg)
{
    long t = (long)arg;
    int i;
    char *result = malloc(64);

    for (i = 0; i < SMALL; i++)
        blocks[t][i] = small_block();
    for (i = 0; i < LARGE; i++)
        blocks[t][SMALL + i] = large_block();
    pthread_barrier_wait(&built);
    return result;
}

static void *churn(void *arg)
{
    long t = (long)arg;
    int i;

    for (i = 0; i < 20000; i++) {
        void *p = malloc(16 + (size_t)(i % 64));
        void *old = __atomic_exchange_n(&exchange[(t + i) % THREADS], p, __ATOMIC_ACQ_REL);
        free(old);
    }
    return NULL;
}

int main(void)
{
    pthread_t th[THREADS];
    void *res[THREADS];
    long t;
    int i;

    pthread_barrier_init(&built, NULL, THREADS);
    for (t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, build, (void *)t);
    for (t = 0; t < THREADS; t++)
        pthread_join(th[t], &res[t]);
    for (t = 0; t < THREADS; t++) {
        for (i = 0; i < SMALL + LARGE; i++)
            free(blocks[t][i]);
        free(res[t]);
    }
    for (t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, churn, (void *)t);
    for (t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    for (t = 0; t < THREADS; t++)
        free(exchange[t]);
    return 0;
}
