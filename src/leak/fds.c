/* File descriptors (issue 12, 2; memcheck's --track-fds=yes|all): the calls that open one are
 * wrapped, and each new descriptor is recorded with the stack of the call and the name memcheck
 * gives it (the path the program passed to open, or where a duplicate points); those open at
 * start are the ones "inherited from parent". At exit the descriptors actually open are listed
 * from /proc/self/fd, each with its record when the record still describes it (same file), and
 * written in memcheck's order: most recently opened first, inherited ones last.
 *
 * memcheck sees system calls, the tracer sees calls into the C library: a descriptor the library
 * opens inside another call that is not wrapped here (syslog's socket, say) is listed without a
 * stack. The wrappers call the real function first, outside the tracer (a thread blocked in
 * accept holds nothing), and record after; with tracking off they only forward. The tracer's own
 * descriptors (the report socket, its log) are never listed. */

#include "leak/leak.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_FD   (1u << 16) /* descriptors recorded: higher ones are listed without a stack */
#define NAME_IN  200u       /* name bytes kept in the record; longer names go to the arena */
#define ARENA    (1u << 20)
#define MAX_LIST (1u << 16)

enum {
    F_INHERITED = 1u << 0,
    F_HIDDEN = 1u << 1, /* memcheck does not track it (inotify_init): neither listed nor counted */
    F_ARENA = 1u << 2,  /* the name is in the arena at name_off */
};

struct fdrec {
    uint32_t seq; /* order of recording, 0: no record */
    uint32_t trace;
    uint32_t flags;
    uint32_t name_len;
    uint64_t dev, ino; /* what the descriptor was when recorded */
    uint32_t name_off;
    char name[NAME_IN];
};

int mw__fds_mode; /* 0 off, 1 yes, 2 all */
static struct fdrec *recs;
static uint32_t next_seq;
static char *arena;
static uint32_t arena_used;

/* ---- recording --------------------------------------------------------------------------- */
static void set_name(struct fdrec *r, const char *name, size_t len)
{
    r->flags &= ~(uint32_t)F_ARENA;
    r->name_len = 0;
    if (!name || !len)
        return;
    if (len <= NAME_IN) {
        memcpy(r->name, name, len);
        r->name_len = (uint32_t)len;
        return;
    }
    if (len > 4096)
        len = 4096;
    {
        uint32_t off = __atomic_fetch_add(&arena_used, (uint32_t)len, __ATOMIC_RELAXED);
        if (!arena || off + len > ARENA) {
            memcpy(r->name, name, NAME_IN); /* cut: the arena is full */
            r->name_len = NAME_IN;
            return;
        }
        memcpy(arena + off, name, len);
        r->name_off = off;
        r->name_len = (uint32_t)len;
        r->flags |= F_ARENA;
    }
}

/* Where the descriptor points, when that is a path (memcheck names duplicates so). */
static size_t link_name(int fd, char *buf, size_t cap)
{
    char p[40] = "/proc/self/fd/";
    ssize_t n;

    mw__utoa((uint64_t)fd, p + 14);
    n = readlink(p, buf, cap);
    return n > 0 && buf[0] == '/' ? (size_t)n : 0;
}

/* Records fd (name: the path given, or NULL to read where it points; hidden: memcheck does not
 * track it). trace: where it was opened (0 for none). */
static void note(int fd, const char *name, int by_link, uint32_t flags, uint32_t trace)
{
    struct fdrec *r;
    struct stat st;
    char buf[4096];
    size_t len = 0;

    if (fd < 0 || (unsigned)fd >= MAX_FD || !recs)
        return;
    r = &recs[fd];
    if (by_link) {
        len = link_name(fd, buf, sizeof buf);
        name = buf;
    } else if (name) {
        len = strlen(name);
    }
    if (fstat(fd, &st) == 0) {
        r->dev = st.st_dev;
        r->ino = st.st_ino;
    }
    r->trace = trace;
    r->flags = flags;
    set_name(r, name, len);
    /* memcheck updates a descriptor it already lists in place (dup2 onto it): same position. */
    if (!__atomic_load_n(&r->seq, __ATOMIC_RELAXED))
        __atomic_store_n(&r->seq, __atomic_add_fetch(&next_seq, 1, __ATOMIC_RELAXED),
                         __ATOMIC_RELEASE);
}

static void forget(int fd)
{
    if (fd >= 0 && (unsigned)fd < MAX_FD && recs)
        __atomic_store_n(&recs[fd].seq, 0, __ATOMIC_RELEASE);
}

/* The stack of the wrapper whose frame is fp (pc: frame 0), when the call is the program's own
 * (not the tracer's, not nested in a hook). Returns 0 when nothing may be recorded, else 1 with
 * *trace set, the thread marked busy: call done() after. */
static int begin(uintptr_t pc, uintptr_t *fp, uint32_t *trace, struct mw__leak_thread **tp)
{
    struct mw__leak_thread *self;

    if (!mw__fds_mode || mw__leak_state != MW__ON)
        return 0;
    self = mw__leak_me();
    if (self->busy)
        return 0;
    mw__enter(self);
    if (mw__leak_state != MW__ON) {
        mw__leave(self);
        return 0;
    }
    if (!self->inited)
        mw__leak_thread_init(self);
    *trace = mw__unwind_trace(self, pc, fp[1], (uintptr_t)(fp + 2), fp[0]);
    *tp = self;
    return 1;
}

static void opened(int fd, const char *name, int by_link, uint32_t flags, uintptr_t pc,
                   uintptr_t *fp)
{
    struct mw__leak_thread *self;
    uint32_t trace;

    if (fd < 0 || !begin(pc, fp, &trace, &self))
        return;
    note(fd, name, by_link, flags, trace);
    mw__leave(self);
}

static void opened2(const int *fds, uint32_t flags, uintptr_t pc, uintptr_t *fp)
{
    struct mw__leak_thread *self;
    uint32_t trace;

    if (!begin(pc, fp, &trace, &self))
        return;
    note(fds[0], NULL, 0, flags, trace);
    note(fds[1], NULL, 0, flags, trace);
    mw__leave(self);
}

#define OPENED(fd, name, by_link) \
    opened((fd), (name), (by_link), 0, HERE(), __builtin_frame_address(0))

/* ---- the real functions ------------------------------------------------------------------ */
static void *next(const char *name)
{
    struct mw__leak_thread *self = mw__leak_me();
    void *f;

    self->busy++; /* dlsym's own allocations are the tracer's */
    f = dlsym(RTLD_NEXT, name);
    self->busy--;
    return f;
}

/* Declares real_NAME, the next definition of NAME; returns fail (ENOSYS) when there is none. */
#define REAL_OR(type, name, fail)             \
    static __typeof__(type) real_##name;      \
    if (!real_##name)                         \
        *(void **)&real_##name = next(#name); \
    if (!real_##name) {                       \
        errno = ENOSYS;                       \
        return fail;                          \
    }
#define REAL(type, name) REAL_OR(type, name, -1)
/* r = fn args, fn the next definition of fn with parameters params (returns -1 if none). */
#define CALL_REAL(r, fn, params, args) \
    do {                               \
        REAL(int(*) params, fn);       \
        (r) = real_##fn args;          \
    } while (0)

/* (leak.h: syscall() itself is wrapped) */
long mw__raw_syscall(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;

    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return r;
#else
    return syscall(n, a, b, c, d, e, f);
#endif
}

static int need_mode(int flags)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* fn returns a new descriptor (name: what it is, NULL to ask the kernel; by_link: a copy of
 * another descriptor). */
#define FD_WRAPPER(fn, params, args, name, by_link) \
    EXPORT int fn params                            \
    {                                               \
        DISTINCT(fn);                               \
        int r_;                                     \
        CALL_REAL(r_, fn, params, args);            \
        OPENED(r_, name, by_link);                  \
        return r_;                                  \
    }

/* ---- open and its family --------------------------------------------------------------------- */
/* params end in "int flags, ..."; the mode follows when flags ask for one. */
#define MODE_WRAPPER(fn, params, args)   \
    EXPORT int fn params                 \
    {                                    \
        DISTINCT(fn);                    \
        mode_t mode = 0;                 \
        int fd;                          \
        if (need_mode(flags)) {          \
            va_list ap;                  \
            va_start(ap, flags);         \
            mode = va_arg(ap, mode_t);   \
            va_end(ap);                  \
        }                                \
        CALL_REAL(fd, fn, params, args); \
        OPENED(fd, path, 0);             \
        return fd;                       \
    }

MODE_WRAPPER(open, (const char *path, int flags, ...), (path, flags, mode))
MODE_WRAPPER(open64, (const char *path, int flags, ...), (path, flags, mode))
MODE_WRAPPER(openat, (int dirfd, const char *path, int flags, ...), (dirfd, path, flags, mode))
MODE_WRAPPER(openat64, (int dirfd, const char *path, int flags, ...), (dirfd, path, flags, mode))

/* _FORTIFY_SOURCE's checked versions, and creat: a path and fixed arguments. */
FD_WRAPPER(__open_2, (const char *path, int flags), (path, flags), path, 0)
FD_WRAPPER(__open64_2, (const char *path, int flags), (path, flags), path, 0)
FD_WRAPPER(__openat_2, (int dirfd, const char *path, int flags), (dirfd, path, flags), path, 0)
FD_WRAPPER(__openat64_2, (int dirfd, const char *path, int flags), (dirfd, path, flags), path, 0)
FD_WRAPPER(creat, (const char *path, mode_t mode), (path, mode), path, 0)
FD_WRAPPER(creat64, (const char *path, mode_t mode), (path, mode), path, 0)

/* ---- stdio and directories ------------------------------------------------------------------- */
#define FOPEN_WRAPPER(fn)                                         \
    EXPORT FILE *fn(const char *path, const char *mode)           \
    {                                                             \
        DISTINCT(fn);                                             \
        FILE *f;                                                  \
        REAL_OR(FILE *(*)(const char *, const char *), fn, NULL); \
        f = real_##fn(path, mode);                                \
        if (f && mw__fds_mode)                                    \
            OPENED(fileno(f), path, 0);                           \
        return f;                                                 \
    }

FOPEN_WRAPPER(fopen)
FOPEN_WRAPPER(fopen64)

#define FREOPEN_WRAPPER(fn)                                               \
    EXPORT FILE *fn(const char *path, const char *mode, FILE *stream)     \
    {                                                                     \
        DISTINCT(fn);                                                     \
        FILE *f;                                                          \
        int old = stream ? fileno(stream) : -1;                           \
        REAL_OR(FILE *(*)(const char *, const char *, FILE *), fn, NULL); \
        if (!mw__fds_mode)                                                \
            return real_##fn(path, mode, stream);                         \
        if (old >= 0)                                                     \
            forget(old);                                                  \
        f = real_##fn(path, mode, stream);                                \
        if (f)                                                            \
            OPENED(fileno(f), path, path == NULL);                        \
        return f;                                                         \
    }

FREOPEN_WRAPPER(freopen)
FREOPEN_WRAPPER(freopen64)

EXPORT DIR *opendir(const char *path)
{
    DISTINCT(opendir);
    DIR *d;

    REAL_OR(DIR * (*)(const char *), opendir, NULL);
    d = real_opendir(path);
    if (d && mw__fds_mode)
        OPENED(dirfd(d), path, 0);
    return d;
}

/* glibc opens P_tmpdir with O_TMPFILE: memcheck names it so. */
#define TMPFILE_WRAPPER(fn)                 \
    EXPORT FILE *fn(void)                   \
    {                                       \
        DISTINCT(fn);                       \
        FILE *f;                            \
        REAL_OR(FILE *(*)(void), fn, NULL); \
        f = real_##fn();                    \
        if (f && mw__fds_mode)              \
            OPENED(fileno(f), P_tmpdir, 0); \
        return f;                           \
    }

TMPFILE_WRAPPER(tmpfile)
TMPFILE_WRAPPER(tmpfile64)

/* mkstemp and friends: the name is the template, filled in. */
#define MKSTEMP_WRAPPER(fn, params, args) \
    EXPORT int fn params                  \
    {                                     \
        DISTINCT(fn);                     \
        int fd;                           \
        REAL(int(*) params, fn);          \
        fd = real_##fn args;              \
        if (mw__fds_mode)                 \
            OPENED(fd, tmpl, 0);          \
        return fd;                        \
    }

MKSTEMP_WRAPPER(mkstemp, (char *tmpl), (tmpl))
MKSTEMP_WRAPPER(mkstemp64, (char *tmpl), (tmpl))
MKSTEMP_WRAPPER(mkostemp, (char *tmpl, int flags), (tmpl, flags))
MKSTEMP_WRAPPER(mkostemp64, (char *tmpl, int flags), (tmpl, flags))
MKSTEMP_WRAPPER(mkstemps, (char *tmpl, int suffixlen), (tmpl, suffixlen))
MKSTEMP_WRAPPER(mkstemps64, (char *tmpl, int suffixlen), (tmpl, suffixlen))
MKSTEMP_WRAPPER(mkostemps, (char *tmpl, int suffixlen, int flags), (tmpl, suffixlen, flags))
MKSTEMP_WRAPPER(mkostemps64, (char *tmpl, int suffixlen, int flags), (tmpl, suffixlen, flags))

EXPORT FILE *popen(const char *cmd, const char *type)
{
    DISTINCT(popen);
    FILE *f;

    REAL_OR(FILE * (*)(const char *, const char *), popen, NULL);
    f = mw__leak_popen(real_popen, cmd, type);
    if (f && mw__fds_mode)
        OPENED(fileno(f), NULL, 0);
    return f;
}

/* The closing calls that close a descriptor inside the library. */
#define CLOSE_STREAM(fn, type, fdof)                     \
    EXPORT int fn(type s)                                \
    {                                                    \
        DISTINCT(fn);                                    \
        REAL(int (*)(type), fn);                         \
        /* (declared nonnull, but called with NULL) */   \
        if (mw__fds_mode && *(const void *volatile *)&s) \
            forget(fdof(s));                             \
        return real_##fn(s);                             \
    }

CLOSE_STREAM(fclose, FILE *, fileno)
CLOSE_STREAM(pclose, FILE *, fileno)
CLOSE_STREAM(closedir, DIR *, dirfd)

/* ---- descriptors of other kinds ---------------------------------------------------------- */
/* fn fills fds with two new descriptors and returns 0. */
#define PAIR_WRAPPER(fn, params, args)                           \
    EXPORT int fn params                                         \
    {                                                            \
        DISTINCT(fn);                                            \
        int r_;                                                  \
        CALL_REAL(r_, fn, params, args);                         \
        if (r_ == 0)                                             \
            opened2(fds, 0, HERE(), __builtin_frame_address(0)); \
        return r_;                                               \
    }

FD_WRAPPER(socket, (int domain, int type, int protocol), (domain, type, protocol), NULL, 0)
FD_WRAPPER(accept, (int s, struct sockaddr *addr, socklen_t *len), (s, addr, len), NULL, 0)
FD_WRAPPER(accept4, (int s, struct sockaddr *addr, socklen_t *len, int flags),
           (s, addr, len, flags), NULL, 0)
PAIR_WRAPPER(socketpair, (int domain, int type, int protocol, int fds[2]),
             (domain, type, protocol, fds))
PAIR_WRAPPER(pipe, (int fds[2]), (fds))
PAIR_WRAPPER(pipe2, (int fds[2], int flags), (fds, flags))
FD_WRAPPER(dup, (int old), (old), NULL, 1)
FD_WRAPPER(dup3, (int old, int new_fd, int flags), (old, new_fd, flags), NULL, 1)

EXPORT int dup2(int old, int new_fd)
{
    DISTINCT(dup2);
    int fd;

    {
        REAL(int (*)(int, int), dup2);
        fd = real_dup2(old, new_fd);
    }
    if (fd >= 0 && old != new_fd)
        OPENED(fd, NULL, 1);
    return fd;
}

#define FCNTL_WRAPPER(fn)                             \
    EXPORT int fn(int fd, int cmd, ...)               \
    {                                                 \
        DISTINCT(fn);                                 \
        va_list ap;                                   \
        long arg;                                     \
        int r;                                        \
        va_start(ap, cmd);                            \
        arg = va_arg(ap, long);                       \
        va_end(ap);                                   \
        {                                             \
            REAL(int (*)(int, int, ...), fn);         \
            r = real_##fn(fd, cmd, arg);              \
        }                                             \
        if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) \
            OPENED(r, NULL, 1);                       \
        return r;                                     \
    }

FCNTL_WRAPPER(fcntl)
FCNTL_WRAPPER(fcntl64)

FD_WRAPPER(eventfd, (unsigned int initval, int flags), (initval, flags), NULL, 0)
FD_WRAPPER(signalfd, (int sfd, const void *mask, int flags), (sfd, mask, flags), NULL, 0)
FD_WRAPPER(timerfd_create, (int clock, int flags), (clock, flags), NULL, 0)
FD_WRAPPER(epoll_create, (int size), (size), NULL, 0)
FD_WRAPPER(epoll_create1, (int flags), (flags), NULL, 0)
FD_WRAPPER(inotify_init1, (int flags), (flags), NULL, 0)
FD_WRAPPER(memfd_create, (const char *name, unsigned int flags), (name, flags), NULL, 0)

/* memcheck 3.19 does not track inotify_init: neither counted nor listed. */
EXPORT int inotify_init(void)
{
    DISTINCT(inotify_init);
    int fd;

    {
        REAL(int (*)(void), inotify_init);
        fd = real_inotify_init();
    }
    opened(fd, NULL, 0, F_HIDDEN, HERE(), __builtin_frame_address(0));
    return fd;
}

/* /dev/ptmx, opened inside the library. */
FD_WRAPPER(posix_openpt, (int flags), (flags), "/dev/ptmx", 0)
FD_WRAPPER(getpt, (void), (), "/dev/ptmx", 0)

/* Descriptors received over a socket (SCM_RIGHTS) are the receiver's new ones. */
static void received(const struct msghdr *m, uintptr_t pc, uintptr_t *fp)
{
    struct mw__leak_thread *self;
    struct cmsghdr *c;
    uint32_t trace;

    if (!m || !m->msg_control || !begin(pc, fp, &trace, &self))
        return;
    for (c = CMSG_FIRSTHDR((struct msghdr *)m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        size_t k, n;
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (k = 0; k < n; k++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
            note(fd, NULL, 1, 0, trace);
        }
    }
    mw__leave(self);
}

EXPORT ssize_t recvmsg(int s, struct msghdr *m, int flags)
{
    DISTINCT(recvmsg);
    ssize_t r;

    {
        REAL(ssize_t(*)(int, struct msghdr *, int), recvmsg);
        r = real_recvmsg(s, m, flags);
    }
    if (r >= 0 && mw__fds_mode)
        received(m, HERE(), __builtin_frame_address(0));
    return r;
}

EXPORT int recvmmsg(int s, struct mmsghdr *v, unsigned int n, int flags, struct timespec *t)
{
    DISTINCT(recvmmsg);
    int r, i;

    {
        REAL(int (*)(int, struct mmsghdr *, unsigned int, int, struct timespec *), recvmmsg);
        r = real_recvmmsg(s, v, n, flags, t);
    }
    for (i = 0; i < r && mw__fds_mode; i++)
        received(&v[i].msg_hdr, HERE(), __builtin_frame_address(0));
    return r;
}

/* ---- closing ----------------------------------------------------------------------------- */
EXPORT int close(int fd)
{
    DISTINCT(close);
    REAL(int (*)(int), close);
    /* Forgotten first: once closed, another thread may get the number at once. */
    if (mw__fds_mode)
        forget(fd);
    return real_close(fd);
}

EXPORT int close_range(unsigned int lo, unsigned int hi, int flags)
{
    DISTINCT(close_range);
    unsigned int fd;
    REAL(int (*)(unsigned int, unsigned int, int), close_range);

    if (mw__fds_mode && !(flags & 4 /* CLOSE_RANGE_CLOEXEC: nothing is closed */))
        for (fd = lo; fd <= hi && fd < MAX_FD; fd++)
            forget((int)fd);
    return real_close_range(lo, hi, flags);
}

EXPORT void closefrom(int lo)
{
    DISTINCT(closefrom);
    static void (*real)(int);
    unsigned int fd;

    if (mw__fds_mode)
        for (fd = lo < 0 ? 0 : (unsigned)lo; fd < MAX_FD; fd++)
            forget((int)fd);
    if (!real)
        *(void **)&real = next("closefrom");
    if (real)
        real(lo);
}

/* syscall(): the raw calls that open or close a descriptor, as memcheck sees them. */
EXPORT long syscall(long n, ...)
{
    DISTINCT(syscall);
    va_list ap;
    long a, b, c, d, e, f, r;

    va_start(ap, n);
    a = va_arg(ap, long);
    b = va_arg(ap, long);
    c = va_arg(ap, long);
    d = va_arg(ap, long);
    e = va_arg(ap, long);
    f = va_arg(ap, long);
    va_end(ap);
    if (n == SYS_prctl)
        mw__blocks_prctl(a, (unsigned long)b); /* (as prctl does: entry.c) */
    if (!mw__fds_mode)
        return mw__raw_syscall(n, a, b, c, d, e, f);
    if (n == SYS_close)
        forget((int)a);
    r = mw__raw_syscall(n, a, b, c, d, e, f);
    if (r < 0)
        return r;
    switch (n) {
    case SYS_open:
    case SYS_creat:
        OPENED((int)r, (const char *)a, 0);
        break;
    case SYS_openat:
        OPENED((int)r, (const char *)b, 0);
        break;
    case SYS_dup:
    case SYS_dup2:
    case SYS_dup3:
        OPENED((int)r, NULL, 1);
        break;
    case SYS_pipe:
    case SYS_pipe2:
    case SYS_socketpair:
        opened2((const int *)(n == SYS_socketpair ? d : a), 0, HERE(), __builtin_frame_address(0));
        break;
    case SYS_socket:
    case SYS_accept:
    case SYS_accept4:
    case SYS_eventfd:
    case SYS_eventfd2:
    case SYS_signalfd:
    case SYS_signalfd4:
    case SYS_timerfd_create:
    case SYS_epoll_create:
    case SYS_epoll_create1:
    case SYS_inotify_init1:
    case SYS_memfd_create:
        OPENED((int)r, NULL, 0);
        break;
    default:
        break;
    }
    return r;
}

/* ---- start and exit ---------------------------------------------------------------------- */
/* Reads /proc/self/fd without allocating: calls fn for each open descriptor but dirfd. */
static void each_open_fd(void (*fn)(int fd, void *ctx), void *ctx)
{
    char buf[4096];
    int dir = (int)mw__raw_syscall(SYS_openat, AT_FDCWD, (long)"/proc/self/fd",
                                   O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0, 0);
    long n;

    if (dir < 0)
        return;
    while ((n = mw__raw_syscall(SYS_getdents64, dir, (long)buf, sizeof buf, 0, 0, 0)) > 0) {
        long off = 0;
        while (off < n) {
            struct {
                uint64_t ino;
                int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[];
            } *de = (void *)(buf + off);
            const char *end;
            uint64_t v;
            off += de->reclen;
            if (mw__parse_dec(de->name, &end, &v) < 0 || *end || v > INT_MAX)
                continue;
            if (v != (uint64_t)dir)
                fn((int)v, ctx);
        }
    }
    mw__raw_syscall(SYS_close, dir, 0, 0, 0, 0, 0);
}

static int own_fd(int fd, const struct stat *st)
{
    return mw__wire_own_fd(fd, st) || fd == mw__sys_log_fd();
}

static void inherit(int fd, void *ctx)
{
    struct stat st;

    (void)ctx;
    if (fstat(fd, &st) < 0 || own_fd(fd, &st))
        return;
    note(fd, NULL, 1, F_INHERITED, 0);
}

void mw__fds_init(void)
{
    const char *l = mw__leak_env("MEMWALK_LAUNCH"), *v = NULL;

    if (l && (v = strstr(l, ",fds:")) != NULL)
        v += 5;
    else
        v = mw__leak_env("MEMWALK_TRACK_FDS");
    if (!v)
        return;
    if (v[0] == 'a' || v[0] == '2')
        mw__fds_mode = 2;
    else if (v[0] == 'y' || v[0] == '1')
        mw__fds_mode = 1;
    if (!mw__fds_mode)
        return;
    recs = mw__leak_map(MAX_FD * sizeof *recs);
    arena = mw__leak_map(ARENA);
    if (!recs) {
        mw__fds_mode = 0;
        mw__leak_log("out of memory for the descriptor table: --track-fds is off");
        return;
    }
    each_open_fd(inherit, NULL);
}

/* ---- the list at exit -------------------------------------------------------------------- */
struct entry {
    mw__leak_fd_t r;
    const char *name;
    uint32_t seq;
};

static struct entry *list;
static uint32_t nlist, nopen, nstd;

static void at_exit_fd(int fd, void *ctx)
{
    struct stat st;
    struct entry *e;
    const struct fdrec *r = (unsigned)fd < MAX_FD ? &recs[fd] : NULL;
    uint32_t seq = r ? __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE) : 0;

    (void)ctx;
    if (fstat(fd, &st) < 0 || own_fd(fd, &st))
        return;
    if (seq && (r->dev != st.st_dev || r->ino != st.st_ino))
        seq = 0; /* closed inside the library, and the number reused unseen */
    if (seq && (r->flags & F_HIDDEN))
        return;
    nopen++;
    if (fd <= 2)
        nstd++;
    if (nlist == MAX_LIST)
        return;
    e = &list[nlist++];
    memset(e, 0, sizeof *e);
    e->r.fd = fd;
    e->r.trace = MW__LEAK_NO_TRACE;
    if (seq) {
        e->seq = seq;
        e->r.trace = r->trace;
        e->r.flags = r->flags & F_INHERITED ? MW__LEAK_FD_INHERITED : 0;
        e->r.name_len = r->name_len;
        e->name = r->flags & F_ARENA ? arena + r->name_off : r->name;
    } else {
        e->seq = UINT32_MAX; /* opened unseen: when, is not known */
        e->r.flags = MW__LEAK_FD_UNSEEN;
    }
    if (!e->r.name_len && S_ISSOCK(st.st_mode)) {
        struct sockaddr_storage a;
        socklen_t len = sizeof a;
        e->r.flags |= MW__LEAK_FD_SOCKET;
        memset(&a, 0, sizeof a);
        if (getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
            e->r.family = a.ss_family;
            e->r.addr_len = len < sizeof e->r.addr ? len : sizeof e->r.addr;
            memcpy(e->r.addr, &a, e->r.addr_len);
            len = sizeof a;
            memset(&a, 0, sizeof a);
            if (getpeername(fd, (struct sockaddr *)&a, &len) == 0) {
                e->r.flags |= MW__LEAK_FD_PEER;
                e->r.peer_len = len < sizeof e->r.peer ? len : sizeof e->r.peer;
                memcpy(e->r.peer, &a, e->r.peer_len);
            }
        } else {
            e->r.family = UINT32_MAX; /* getsockname failed: "Open socket N:" */
        }
    }
}

void mw__fds_traces(void (*use)(uint32_t trace, void *ctx), void *ctx)
{
    uint32_t i, j;

    if (!mw__fds_mode || !recs)
        return;
    if (!list)
        list = mw__leak_map(MAX_LIST * sizeof *list);
    if (!list)
        return;
    nlist = nopen = nstd = 0;
    each_open_fd(at_exit_fd, NULL);
    /* memcheck's order: the most recently recorded first (insertion sort: lists are short). */
    for (i = 1; i < nlist; i++) {
        struct entry e = list[i];
        for (j = i; j > 0 && list[j - 1].seq < e.seq; j--)
            list[j] = list[j - 1];
        list[j] = e;
    }
    for (i = 0; i < nlist; i++)
        if (list[i].r.trace != MW__LEAK_NO_TRACE)
            use(list[i].r.trace, ctx);
}

void mw__fds_write(void (*put)(const void *, size_t), uint32_t (*map)(uint32_t, void *), void *ctx)
{
    mw__leak_section_t s = {MW__LEAK_SECT_FDS, 0, sizeof(mw__leak_fds_t)};
    mw__leak_fds_t h = {(uint32_t)mw__fds_mode, 0, 0, 0};
    uint32_t i;

    if (!mw__fds_mode || !list)
        return;
    h.open = nopen;
    h.std = nstd;
    s.count = nlist;
    for (i = 0; i < nlist; i++)
        s.bytes += sizeof(mw__leak_fd_t) + list[i].r.name_len;
    put(&s, sizeof s);
    put(&h, sizeof h);
    for (i = 0; i < nlist; i++) {
        mw__leak_fd_t r = list[i].r;
        r.trace = r.trace == MW__LEAK_NO_TRACE ? r.trace : map(r.trace, ctx);
        put(&r, sizeof r);
        put(list[i].name, r.name_len);
    }
}
