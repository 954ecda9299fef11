/* Tests for mw__assert (common/assert.h): on, it names the broken invariant in one line and the
 * process dies of SIGABRT; off, the condition is type-checked but never evaluated. */
#undef MW_ASSERTS
#define MW_ASSERTS 1
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/assert.h"

static int checked_value(int v)
{
    mw__assert(v > 0);
    return v;
}

Test(assert, holds_and_passes)
{
    cr_assert_eq(checked_value(3), 3);
}

/* Runs checked_value(0) in a child; returns its wait status, the child's stderr in err. */
static int run_failing(char *err, size_t cap)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        checked_value(0);
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(fds[0], err + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = '\0';
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return status;
}

Test(assert, failure_names_the_invariant_and_aborts)
{
    char err[1024];
    int status = run_failing(err, sizeof err);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x", status);
    cr_assert(strstr(err, "memwalk: internal error: ") == err, "%s", err);
    cr_assert(strstr(err, "test_assert.c:"), "%s", err);
    cr_assert(strstr(err, ": checked_value: assertion 'v > 0' failed\n"), "%s", err);
    cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "more than one line: %s", err);
}
