/* Victim: a forked child leaks and exits; memcheck reports the child too, with its own pid. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static void child_work(void)
{
    char *volatile p = malloc(333); /* @site child_work */
    memset(p, 0, 333);
    p = NULL;
}

int main(void)
{
    char *volatile parent_block = malloc(111); /* @site main */
    pid_t pid = fork();

    if (pid == 0) {
        child_work();
        exit(0);
    }
    waitpid(pid, NULL, 0);
    parent_block = NULL;
    return 0;
}
