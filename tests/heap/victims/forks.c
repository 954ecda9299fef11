/* The parent builds 1 MiB, forks, and frees it; the child inherits that heap (as under massif)
 * and adds 2 MiB of its own before freeing everything. Each process gets its own profile. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static char *parent_block(void)
{
    char *p = malloc(1 << 20);
    memset(p, 1, 1 << 20);
    return p;
}

__attribute__((noinline)) static char *child_block(void)
{
    char *p = malloc(1 << 21);
    memset(p, 2, 1 << 21);
    return p;
}

int main(void)
{
    char *a = parent_block();
    pid_t pid = fork();
    int status = 0;

    if (pid == 0) {
        char *b = child_block();
        free(b);
        free(a);
        _exit(7);
    }
    waitpid(pid, &status, 0);
    free(a);
    return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 1;
}
