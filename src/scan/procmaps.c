/* An allocation-free /proc/PID/maps reader (see procmaps.h). */
#include "scan/procmaps.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"

int mw__maps_open(mw__maps_reader_t *r, const char *path, char *buf, size_t cap)
{
    memset(r, 0, sizeof *r);
    if (cap < 8192)
        return -EINVAL;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        return -errno;
    r->buf = buf;
    r->cap = cap;
    return 0;
}

void mw__maps_close(mw__maps_reader_t *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

/* Reads a hex field ending at one of the stop characters. */
static int field_hex(const char **p, const char *end, char stop, uint64_t *v)
{
    const char *q = *p, *e;
    char tmp[24];
    size_t n = 0;

    while (q < end && *q != stop && n < sizeof tmp - 1)
        tmp[n++] = *q++;
    tmp[n] = '\0';
    if (q >= end || *q != stop || mw__parse_hex(tmp, &e, v) < 0 || *e)
        return -EINVAL;
    *p = q + 1;
    return 0;
}

int mw__maps_parse_line(const char *line, size_t len, mw__maps_line_t *out)
{
    const char *p = line, *end = line + len;
    uint64_t lo, hi, off, ino = 0, dummy;
    int k;

    if (field_hex(&p, end, '-', &lo) < 0 || field_hex(&p, end, ' ', &hi) < 0 || lo > hi)
        return -EINVAL;
    for (k = 0; k < 4; k++) {
        if (p >= end || *p == ' ')
            return -EINVAL;
        out->perms[k] = *p++;
    }
    out->perms[4] = '\0';
    if (p >= end || *p++ != ' ' || field_hex(&p, end, ' ', &off) < 0)
        return -EINVAL;
    /* device "MAJ:MIN" */
    if (field_hex(&p, end, ':', &dummy) < 0 || field_hex(&p, end, ' ', &dummy) < 0)
        return -EINVAL;
    if (p >= end || *p < '0' || *p > '9')
        return -EINVAL;
    while (p < end && *p >= '0' && *p <= '9')
        ino = ino * 10 + (uint64_t)(*p++ - '0');
    while (p < end && *p == ' ')
        p++;
    out->lo = (uintptr_t)lo;
    out->hi = (uintptr_t)hi;
    out->offset = off;
    out->inode = ino;
    out->path = p;
    out->path_len = (size_t)(end - p);
    return 0;
}

int mw__maps_next(mw__maps_reader_t *r, mw__maps_line_t *out)
{
    for (;;) {
        char *nl = r->pos < r->len ? memchr(r->buf + r->pos, '\n', r->len - r->pos) : NULL;
        if (nl || (r->eof && r->pos < r->len)) {
            const char *line = r->buf + r->pos;
            size_t n = nl ? (size_t)(nl - line) : r->len - r->pos;
            r->pos += n + (nl != NULL);
            return mw__maps_parse_line(line, n, out) < 0 ? -EINVAL : 1;
        }
        if (r->eof)
            return 0;
        /* Keep the partial line, read more behind it. A line longer than the buffer (a path
         * of over 4 KiB cannot be) is cut. */
        if (r->pos > 0) {
            memmove(r->buf, r->buf + r->pos, r->len - r->pos);
            r->len -= r->pos;
            r->pos = 0;
        }
        if (r->len == r->cap)
            r->len = 0;
        {
            ssize_t got = read(r->fd, r->buf + r->len, r->cap - r->len);
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            if (got == 0)
                r->eof = 1;
            r->len += (size_t)got;
        }
    }
}
