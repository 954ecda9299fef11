/* Victim: a timer signal (SIGALRM by default, or the signal number given, sent by a child)
 * kills the program while it allocates in a loop. It must die of that signal with its report,
 * never hang or crash inside the tracer (issue 9, 1). */
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int sig = argc > 1 ? atoi(argv[1]) : SIGALRM;
    void *ring[64] = {0};
    char *volatile leak = malloc(33);
    unsigned long i;

    leak[0] = 1;
    leak = NULL; /* definitely lost when the signal comes */
    if (sig == SIGALRM) {
        struct itimerval it = {{0, 0}, {0, 20000}};
        setitimer(ITIMER_REAL, &it, NULL);
    } else if (fork() == 0) {
        usleep(20000);
        kill(getppid(), sig);
        _exit(0);
    }
    for (i = 0;; i++) {
        free(ring[i % 64]);
        ring[i % 64] = malloc(16 + i % 200);
        if (i % 7 == 0)
            ring[i % 64] = realloc(ring[i % 64], 300);
    }
}
