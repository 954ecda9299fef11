/* Victim: a thread that names itself frees a block twice, then the main thread frees a pointer
 * into a global (issue 12, 1): memcheck heads the first error "Thread 2 worker:" and the second
 * "Thread 1:". The program goes on and exits 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

static char global[16];

__attribute__((noinline)) static void release(void *p)
{
    free(p);
    __asm__ volatile("" ::: "memory");
}

static void *worker(void *arg)
{
    char *p = malloc(24);

    (void)arg;
    pthread_setname_np(pthread_self(), "worker");
    release(p);
    release(p);
    return NULL;
}

int main(void)
{
    pthread_t t;

    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    release(global + 4);
    return 0;
}
