/* Victim: threads allocate and free without pause while main forks 40 times; every child
 * allocates, frees and exits 0. A child must never start from a half-written table (issue 9,
 * 1): the program exits with the number of children that did not exit 0. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *spin(void *arg)
{
    void *ring[8] = {0};
    unsigned long i;

    (void)arg;
    for (i = 0;; i++) {
        free(ring[i % 8]);
        ring[i % 8] = malloc(64 + i % 100);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[3];
    int i, bad = 0;

    for (i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, spin, NULL);
    for (i = 0; i < 40; i++) {
        int st;
        pid_t p = fork();
        if (p == 0) {
            void *volatile x = malloc(10);
            free(x);
            _exit(0);
        }
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad++;
    }
    _exit(bad);
}
