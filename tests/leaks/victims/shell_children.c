/* Victim: runs itself again through the shell, with system() and popen(), the second time after
 * clearing its environment, and once through env -i. Each child leaks a block of its own size.
 * With --trace-children=yes every child is traced, as under valgrind (whose tracer survives the
 * shell, env -i and a cleared environment): the tracer's variables must reach the shell and
 * survive it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;

static void run(const char *how, const char *self, int size)
{
    char cmd[PATH_MAX + 64];

    if (strcmp(how, "popen") == 0) {
        FILE *p;
        char line[64];
        snprintf(cmd, sizeof cmd, "exec %s %d", self, size);
        p = popen(cmd, "r");
        if (!p)
            exit(3);
        while (fgets(line, sizeof line, p))
            ;
        if (pclose(p) != 0)
            exit(4);
        return;
    }
    snprintf(cmd, sizeof cmd, "exec %s%s %d", strcmp(how, "env") == 0 ? "env -i " : "", self, size);
    if (system(cmd) != 0)
        exit(5);
}

int main(int argc, char **argv)
{
    char self[PATH_MAX];
    ssize_t n;

    if (argc > 1) { /* a child: leaks argv[1] bytes and says so on stdout */
        sink = malloc((size_t)atoi(argv[1])); /* @site main */
        sink = NULL;
        printf("leaked %s\n", argv[1]);
        return 0;
    }
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 2;
    self[n] = '\0';
    run("system", self, 101);
    run("popen", self, 102);
    run("env", self, 103);
    clearenv();
    run("system", self, 104);
    run("popen", self, 105);
    return 0;
}
