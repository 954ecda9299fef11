/* Test helper shared by suites that run programs: run a shell command, capture its stdout. */
#ifndef MEMWALK_TESTS_SUPPORT_RUN_H
#define MEMWALK_TESTS_SUPPORT_RUN_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs cmd through the shell; returns its stdout (the caller frees it) and stores its wait
 * status in *status. */
static inline char *run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    size_t len = 0, cap = 1 << 16, n;
    char *buf = malloc(cap);

    cr_assert_not_null(p, "cannot run %s", cmd);
    cr_assert_not_null(buf);
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 4096) {
            buf = realloc(buf, cap *= 2);
            cr_assert_not_null(buf);
        }
    }
    buf[len] = '\0';
    *status = pclose(p);
    return buf;
}

#endif
