/* Whole-file reads and exact-length transfers. */
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

int mw__read_file(const char *path, char **ret_buf, size_t *ret_len)
{
    size_t len = 0, cap = 16384;
    char *buf, *p;
    ssize_t n;
    int fd, err;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    buf = malloc(cap);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        if (cap - len < 4096) {
            p = realloc(buf, cap * 2);
            if (!p) {
                err = -ENOMEM;
                goto fail;
            }
            buf = p;
            cap *= 2;
        }
        n = read(fd, buf + len, cap - len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = -errno;
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    *ret_buf = buf;
    if (ret_len)
        *ret_len = len;
    return 0;
fail:
    free(buf);
    close(fd);
    return err;
}

/* The loop of mw__read_full and mw__write_full. */
static int transfer(int fd, char *p, size_t len, bool writing)
{
    while (len) {
        ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int mw__read_full(int fd, void *buf, size_t len)
{
    return transfer(fd, buf, len, false);
}

int mw__write_full(int fd, const void *buf, size_t len)
{
    return transfer(fd, (char *)buf, len, true);
}
