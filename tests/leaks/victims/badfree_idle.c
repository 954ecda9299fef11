/* Victim: a thread that names itself frees a block twice and then idles while main leaks a
 * block and exits (issue 12, 1): memcheck heads the thread's error "Thread 2 idler:" and, the
 * leak check being the main thread's, its first loss record "Thread 1:". Exits 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <unistd.h>

static sem_t done;

__attribute__((noinline)) static void release(void *p)
{
    free(p);
    __asm__ volatile("" ::: "memory");
}

static void *idler(void *arg)
{
    char *p = malloc(16);

    (void)arg;
    pthread_setname_np(pthread_self(), "idler");
    release(p);
    release(p);
    sem_post(&done);
    for (;;)
        pause();
    return NULL;
}

int main(void)
{
    pthread_t t;
    char *volatile lost;

    sem_init(&done, 0, 0);
    pthread_create(&t, NULL, idler, NULL);
    sem_wait(&done);
    lost = malloc(40);
    lost[0] = 1;
    lost = NULL;
    exit(0);
}
