/* A program for the live tests: prints where its own variables live, then waits for EOF on stdin
 * so the test can read its map. Built as PIE, non-PIE and static. With the argument "threads" it
 * first starts two threads that allocate (glibc gives each a malloc arena in a 64 MiB
 * reservation) and prints where the first one's block is, as arena=. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int g_bss;                    /* a small int: it shares the last file-backed page with .data */
int g_data = 1;               /* .data */
const char g_ro[] = "rodata"; /* .rodata */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static void *blocks[2];
static int started;

static void *thread_main(void *arg)
{
    void *p = malloc(100);

    pthread_mutex_lock(&lock);
    blocks[(long)arg] = p;
    started++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    char *heap = malloc(16);
    int local = 0;
    long i;
    char c;

    if (argc > 1 && strcmp(argv[1], "threads") == 0) {
        for (i = 0; i < 2; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, thread_main, (void *)i) != 0)
                return 1;
        }
        pthread_mutex_lock(&lock);
        while (started < 2)
            pthread_cond_wait(&cond, &lock);
        pthread_mutex_unlock(&lock);
    }
    printf("bss=%p data=%p ro=%p text=%p heap=%p stack=%p arena=%p\n", (void *)&g_bss,
           (void *)&g_data, (void *)g_ro, (void *)main, (void *)heap, (void *)&local, blocks[0]);
    fflush(stdout);
    while (read(0, &c, 1) > 0)
        ;
    free(heap);
    return 0;
}
