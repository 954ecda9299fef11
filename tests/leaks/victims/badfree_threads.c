/* Victim: two threads free the same 200 blocks at once (issue 12, 1): each block is freed once
 * and then reported once as a double free, whichever thread comes second (memcheck: 200 errors
 * from 1 context). The program goes on and exits 0. */
#include <pthread.h>
#include <stdlib.h>

#define N 200

static void *blocks[N];
static pthread_barrier_t start;

__attribute__((noinline)) static void release(void *p)
{
    free(p);
    __asm__ volatile("" ::: "memory");
}

static void *worker(void *arg)
{
    int i;

    (void)arg;
    pthread_barrier_wait(&start);
    for (i = 0; i < N; i++)
        release(blocks[i]);
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    int i;

    for (i = 0; i < N; i++)
        blocks[i] = malloc(32);
    pthread_barrier_init(&start, NULL, 2);
    for (i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    return 0;
}
