/* Runs a command and prints "<wall seconds> <peak RSS KiB> <CPU seconds>" on stderr: the peak
 * is the largest resident set of the command or any process it started (memwalk leaks and the
 * traced program, heaptrack and its interpreter), CPU time is theirs, user and system.
 * Usage: measure [-i INPUT] [-o OUTPUT] CMD [ARGS] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *in = NULL, *out = "/dev/null";
    struct timespec a, b;
    struct rusage ru;
    int i = 1, status;
    pid_t pid;

    while (i + 1 < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-i") == 0)
            in = argv[i + 1];
        else if (strcmp(argv[i], "-o") == 0)
            out = argv[i + 1];
        else
            break;
        i += 2;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: measure [-i INPUT] [-o OUTPUT] CMD [ARGS]\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid = fork();
    if (pid == 0) {
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in) {
            int fi = open(in, O_RDONLY);
            if (fi < 0)
                _exit(126);
            dup2(fi, 0);
        }
        if (fo >= 0) {
            dup2(fo, 1);
            dup2(fo, 2);
        }
        execvp(argv[i], argv + i);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return 4;
    clock_gettime(CLOCK_MONOTONIC, &b);
    getrusage(RUSAGE_CHILDREN, &ru);
    fprintf(stderr, "%.3f %ld %.3f\n",
            (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9, ru.ru_maxrss,
            (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
