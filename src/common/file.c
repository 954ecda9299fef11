/* Whole-file reads. */
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
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
