/* Victim: a thread keeps a block in a __thread variable and exits (memcheck: definitely lost,
 * the dead thread's TLS is no root); another thread is still running at exit with a block on
 * its stack (reachable). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__thread char *tls_holder;
static volatile int ready;

__attribute__((noinline)) static void *short_lived(void *arg)
{
    (void)arg;
    tls_holder = malloc(77); /* @site short_lived */
    memset(tls_holder, 0, 77);
    return NULL;
}

__attribute__((noinline)) static void *long_lived(void *arg)
{
    char *volatile mine = malloc(55); /* @site long_lived */
    (void)arg;
    memset(mine, 0, 55);
    ready = 1;
    for (;;)
        pause();
    return NULL;
}

int main(void)
{
    pthread_t a, b;

    pthread_create(&a, NULL, short_lived, NULL);
    pthread_join(a, NULL);
    pthread_create(&b, NULL, long_lived, NULL);
    while (!ready)
        usleep(1000);
    return 0;
}
