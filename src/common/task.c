#include "common/task.h"
#include "common/common.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* "/proc/PID/task/" or "/proc/self/task/", then TID and "/leaf" when tid > 0. */
static void task_path(char *path, pid_t pid, pid_t tid, const char *leaf)
{
    char *p = path;

    memcpy(p, "/proc/", 6);
    p += 6;
    if (pid > 0)
        p += mw__utoa((uint64_t)pid, p);
    else {
        memcpy(p, "self", 4);
        p += 4;
    }
    memcpy(p, "/task/", 6);
    p += 6;
    if (tid > 0) {
        p += mw__utoa((uint64_t)tid, p);
        *p++ = '/';
        memcpy(p, leaf, strlen(leaf));
        p += strlen(leaf);
    }
    *p = '\0';
}

ssize_t mw__task_read(pid_t pid, pid_t tid, const char *leaf, char *buf, size_t len)
{
    char path[96];
    ssize_t got;
    int fd;

    if (len == 0 || strlen(leaf) > 32)
        return -1;
    task_path(path, pid, tid, leaf);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    got = read(fd, buf, len - 1);
    close(fd);
    if (got < 0)
        return -1;
    buf[got] = '\0';
    return got;
}

int mw__task_sp(pid_t pid, pid_t tid, uintptr_t *sp)
{
    char buf[512], *p, *last2 = NULL, *last1 = NULL;
    const char *end;
    ssize_t len = mw__task_read(pid, tid, "syscall", buf, sizeof buf);
    uint64_t v = 0;
    int fields = 1;

    *sp = 0;
    if (len <= 0 || (buf[0] != '-' && (buf[0] < '0' || buf[0] > '9')))
        return MW__TASK_RUNNING;
    /* The stack pointer is the second to last field, in hexadecimal ("0x..."). */
    for (p = buf; *p && *p != '\n'; p++)
        if (*p == ' ') {
            fields++;
            last2 = last1;
            last1 = p + 1;
        }
    if (!last2 || fields < 3 || last2[0] != '0' || last2[1] != 'x' ||
        mw__parse_hex(last2 + 2, &end, &v) < 0 || *end != ' ')
        return MW__TASK_RUNNING;
    if (!v)
        return MW__TASK_RUNNING;
    *sp = (uintptr_t)v;
    return buf[0] == '-' ? MW__TASK_BLOCKED : MW__TASK_SYSCALL;
}

struct dirent64_raw {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

long mw__task_each(pid_t pid, int (*fn)(void *ctx, pid_t tid), void *ctx)
{
    char path[96], dbuf[4096];
    long nread, count = 0;
    int fd, stop = 0;

    task_path(path, pid, 0, "");
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    while (!stop && (nread = syscall(SYS_getdents64, fd, dbuf, sizeof dbuf)) > 0) {
        long off = 0;
        while (!stop && off < nread) {
            const struct dirent64_raw *d = (const struct dirent64_raw *)(dbuf + off);
            const char *end;
            uint64_t tid;
            off += d->d_reclen;
            if (mw__parse_dec(d->d_name, &end, &tid) < 0 || *end || tid == 0 || tid > INT_MAX)
                continue;
            count++;
            stop = fn(ctx, (pid_t)tid);
        }
    }
    close(fd);
    return count;
}
