/* Victim: main leaves with pthread_exit while a thread works on; /proc/self/maps is empty from
 * then on. A block held by a global is still reachable, a dropped one definitely lost, and the
 * program's frames still have names (issue 9, 2). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *volatile global_block;

__attribute__((noinline)) static void *make(size_t n)
{
    void *p = malloc(n); /* @site make */
    memset(p, 7, n);
    return p;
}

static void *worker(void *arg)
{
    void *volatile lost;

    (void)arg;
    usleep(50000);
    lost = make(21);
    lost = NULL;
    (void)lost;
    return NULL;
}

int main(void)
{
    pthread_t t;
    void *volatile dropped;

    global_block = make(100);
    dropped = make(55);
    dropped = NULL;
    (void)dropped;
    pthread_create(&t, NULL, worker, NULL);
    pthread_exit(NULL);
}
