/* The failure path of mw__assert (assert.h): allocation-free, async-signal-safe. */
#include "common/assert.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t put(char *buf, size_t at, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n > cap - at)
        n = cap - at;
    memcpy(buf + at, s, n);
    return at + n;
}

void mw__assert_fail(const char *expr, const char *file, int line, const char *func)
{
    char buf[512], num[16];
    size_t at = 0, k = sizeof num;
    unsigned v = line > 0 ? (unsigned)line : 0;

    num[--k] = '\0';
    do
        num[--k] = (char)('0' + v % 10);
    while ((v /= 10) && k);
    at = put(buf, at, sizeof buf - 1, "memwalk: internal error: ");
    at = put(buf, at, sizeof buf - 1, file);
    at = put(buf, at, sizeof buf - 1, ":");
    at = put(buf, at, sizeof buf - 1, num + k);
    at = put(buf, at, sizeof buf - 1, ": ");
    at = put(buf, at, sizeof buf - 1, func);
    at = put(buf, at, sizeof buf - 1, ": assertion '");
    at = put(buf, at, sizeof buf - 1, expr);
    at = put(buf, at, sizeof buf - 1, "' failed");
    buf[at++] = '\n';
    for (size_t off = 0; off < at;) {
        ssize_t w = write(STDERR_FILENO, buf + off, at - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    /* abort() would flush stdio streams; the default SIGABRT ends the process without that. */
    signal(SIGABRT, SIG_DFL);
    raise(SIGABRT);
    _exit(134);
}
