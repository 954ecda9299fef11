/* Victim: four threads allocate and free concurrently (their own blocks and each other's
 * through a shared exchange), each leaks ten blocks; the counters must add up across threads. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define OPS     20000

static void *exchange[64];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
void *kept[5];

__attribute__((noinline)) static void *worker(void *arg)
{
    uint32_t s = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
    void *mine[16] = {0};
    int i;

    for (i = 0; i < OPS; i++) {
        int k = (int)((s = s * 1103515245u + 12345u) >> 16) % 16;
        free(mine[k]);
        mine[k] = malloc(16 + (s >> 8) % 200);
        memset(mine[k], 0, 16);
        if ((s & 255) == 0) {
            void *swap;
            pthread_mutex_lock(&lock);
            swap = exchange[k];
            exchange[k] = mine[k];
            mine[k] = swap;
            pthread_mutex_unlock(&lock);
        }
    }
    for (i = 0; i < 16; i++) {
        if (i < 10) {
            void *volatile lost = malloc(32); /* @site worker */
            memset(lost, 0, 32);
            lost = NULL;
        }
        free(mine[i]);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    int i;

    for (i = 0; i < 5; i++)
        kept[i] = malloc(100);
    for (i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    for (i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (i = 0; i < 64; i++)
        free(exchange[i]);
    return 0;
}
