/* Victim: a thread frees ten blocks and idles; main forks; the child exits. Frees made before
 * the fork must not come back in the child as live blocks (issue 9, 1). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *blocks[10];
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int freed, stop;

static void *freer(void *arg)
{
    int i;

    (void)arg;
    for (i = 0; i < 10; i++)
        free(blocks[i]);
    pthread_mutex_lock(&m);
    freed = 1;
    pthread_cond_signal(&c);
    while (!stop)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pid_t pid;
    int i;

    for (i = 0; i < 10; i++) {
        blocks[i] = malloc(48);
        memset(blocks[i], i, 48);
    }
    pthread_create(&t, NULL, freer, NULL);
    pthread_mutex_lock(&m);
    while (!freed)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    pid = fork();
    if (pid == 0)
        exit(0);
    waitpid(pid, NULL, 0);
    pthread_mutex_lock(&m);
    stop = 1;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
    pthread_join(t, NULL);
    return 0;
}
