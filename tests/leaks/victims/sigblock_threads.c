/* Victim: every signal blocked in main, two threads freeing and allocating in a loop while main
 * exits. No thread can be stopped with a signal: the tracer must hold them at its gate, and the
 * program must exit 0 every time, as natively and under valgrind (issue 9, 1). */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static void *spin(void *arg)
{
    void *ring[8] = {0};
    unsigned long i;

    (void)arg;
    for (i = 0;; i++) {
        free(ring[i % 8]);
        ring[i % 8] = i % 5 == 0 ? realloc(NULL, 64) : malloc(64);
        if (i % 7 == 0)
            ring[i % 8] = realloc(ring[i % 8], 0); /* realloc(p, 0) frees */
        if (i % 11 == 0) {
            free(ring[i % 8]);
            ring[i % 8] = aligned_alloc(64, 128);
            ring[i % 8] = realloc(ring[i % 8], 200); /* aligned realloc */
        }
    }
    return NULL;
}

int main(void)
{
    sigset_t all;
    pthread_t t[2];
    int i;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, spin, NULL);
    usleep(100000);
    exit(0);
}
