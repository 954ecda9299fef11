/* Victim: 1,100 threads alive at exit, more than the tracer stops for the scan (1,024): the
 * report must say that a limit was reached, never misclassify quietly (issue 9, 1). */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define N 1100

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int started;

static void *wait_forever(void *arg)
{
    void *volatile own = malloc(8);

    (void)arg;
    pthread_mutex_lock(&m);
    started++;
    pthread_cond_broadcast(&c);
    for (;;)
        pthread_cond_wait(&c, &m);
    (void)own;
    return NULL;
}

int main(void)
{
    pthread_attr_t attr;
    pthread_t t;
    int i;

    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    for (i = 0; i < N; i++)
        if (pthread_create(&t, &attr, wait_forever, NULL) != 0)
            return 2;
    pthread_mutex_lock(&m);
    while (started < N)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    exit(0);
}
