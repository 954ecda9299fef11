/* The preload's system layer: spin locks, mmap'd memory it keeps out of the scan, environment
 * lookups without allocation, one-line logging with write(2), the limits it reached, and the
 * process-wide memory barrier the gate relies on. */
#include "leak/leak.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "scan/scan.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA           0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

extern char **environ;

int mw__leak_mt;

void mw__lock_slow(mw__lock_t *l)
{
    unsigned spins = 0;

    for (;;) {
        while (__atomic_load_n(&l->v, __ATOMIC_RELAXED)) {
            if (++spins < 128)
                __builtin_ia32_pause();
            else
                sched_yield();
        }
        if (!__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
            return;
    }
}

void mw__lock_always(mw__lock_t *l)
{
    if (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
        mw__lock_slow(l);
}

void mw__unlock_always(mw__lock_t *l)
{
    __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

/* Our own mappings, so the exit scan does not take the tables for roots (the block list holds
 * every block's address). Tables are few and large, but each thread has its own cache mapping:
 * room for thousands of threads. */
#define MAX_OWN 16384
static struct {
    uintptr_t lo, hi;
} own[MAX_OWN];
static size_t own_top; /* entries ever used: the exit scan reads no further */
static mw__lock_t own_lock;

void *mw__leak_map(size_t len)
{
    int saved = errno; /* called inside the program's malloc: errno is the program's */
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    size_t i;

    if (p == MAP_FAILED) {
        errno = saved;
        return NULL;
    }
    /* Named where the kernel allows it, so `memwalk maps` shows whose memory this is. */
    prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, len, (unsigned long)"memwalk-leak");
    errno = saved;
    mw__lock_always(&own_lock);
    for (i = 0; i < MAX_OWN; i++)
        if (own[i].lo == 0) {
            own[i].lo = (uintptr_t)p;
            own[i].hi = (uintptr_t)p + len;
            own_top = i + 1 > own_top ? i + 1 : own_top;
            break;
        }
    mw__unlock_always(&own_lock);
    if (i == MAX_OWN)
        mw__leak_limit(MW__LEAK_LIMIT_OWN, "too many tracer mappings: some are scanned as roots");
    return p;
}

void mw__leak_prefault(void *p, size_t len)
{
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
    int saved = errno;

    (void)madvise(p, len, MADV_POPULATE_WRITE); /* (EINVAL before 5.14: faults as before) */
    errno = saved;
}

void mw__leak_unmap(void *p, size_t len)
{
    size_t i;

    mw__lock_always(&own_lock);
    for (i = 0; i < MAX_OWN; i++)
        if (own[i].lo == (uintptr_t)p) {
            own[i].lo = own[i].hi = 0;
            break;
        }
    mw__unlock_always(&own_lock);
    munmap(p, len);
}

void mw__sys_lock(void)
{
    mw__lock_always(&own_lock);
}

void mw__sys_unlock(void)
{
    mw__unlock_always(&own_lock);
}

/* The tracer's code, found once at start: a fault handler asks whether a pc is ours without
 * calling into the loader (dladdr takes its lock). */
static uintptr_t code_lo, code_hi;
static mw__range_t seg[8];
static size_t nseg;

static int code_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    uintptr_t lo, hi;

    (void)size;
    if (!mw__scan_load_extent(info, PF_X, (uintptr_t)arg, &lo, &hi))
        return 0;
    code_lo = lo;
    code_hi = hi;
    return 1;
}

void mw__leak_own_init(void)
{
    dl_iterate_phdr(code_cb, (void *)&mw__leak_own_init);
    /* Our writable segments, listed now: the exit check must not call into the loader. */
    nseg = mw__scan_object_ranges((const void *)&mw__leak_own_init, seg, 8);
}

int mw__leak_own_code(uintptr_t pc)
{
    return pc >= code_lo && pc < code_hi;
}

/* ---- limits -------------------------------------------------------------------------------- */
static uint32_t limits;

void mw__leak_limit(uint32_t bit, const char *what)
{
    if (__atomic_fetch_or(&limits, bit, __ATOMIC_RELAXED) & bit)
        return;
    mw__leak_log2("limit reached: ", what);
}

uint32_t mw__leak_limits(void)
{
    return __atomic_load_n(&limits, __ATOMIC_RELAXED);
}

/* ---- the process-wide barrier -------------------------------------------------------------- */
static int barrier_ok;

int mw__sys_barrier_init(void)
{
    barrier_ok = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    return barrier_ok ? 0 : -1;
}

void mw__sys_barrier(void)
{
    if (!barrier_ok || syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
        __atomic_thread_fence(__ATOMIC_SEQ_CST); /* the hooks fence themselves then */
}

size_t mw__leak_own_ranges(uintptr_t *lo, uintptr_t *hi, size_t max)
{
    size_t i, n = 0;

    for (i = 0; i < own_top && n < max; i++)
        if (own[i].lo) {
            lo[n] = own[i].lo;
            hi[n] = own[i].hi;
            n++;
        }
    for (i = 0; i < nseg && n < max; i++) {
        lo[n] = seg[i].lo;
        hi[n] = seg[i].hi;
        n++;
    }
    return n;
}

const char *mw__leak_env(const char *name)
{
    size_t n = strlen(name);
    char **e;

    if (!environ)
        return NULL;
    for (e = environ; *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

int mw__sys_safe_read(uintptr_t addr, void *out, size_t len)
{
    struct iovec local = {out, len}, remote = {(void *)addr, len};

    return syscall(SYS_process_vm_readv, getpid(), &local, 1UL, &remote, 1UL, 0UL) == (long)len
               ? 0
               : -1;
}

/* ---- descriptors out of the program's reach ------------------------------------------------ */
int mw__sys_reserve_fd(int fd)
{
    struct rlimit rl, up;
    int nfd = -1;

    if (fd < 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur > (1u << 30))
        return -1;
    if (rl.rlim_cur >= rl.rlim_max) {
        /* No room above the limit: the top of the range, out of reach of a program that closes
         * the first 1,024 (what most do), when the limit is high enough. */
        return rl.rlim_cur > 1024 + 64 ? fcntl(fd, F_DUPFD_CLOEXEC, (int)rl.rlim_cur - 32) : -1;
    }
    up = rl;
    up.rlim_cur = rl.rlim_cur + 64 < rl.rlim_max ? rl.rlim_cur + 64 : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
        nfd = fcntl(fd, F_DUPFD_CLOEXEC, (int)rl.rlim_cur);
        setrlimit(RLIMIT_NOFILE, &rl); /* the program sees its own limit again */
    }
    return nfd;
}

/* Where the log goes: a copy of the original stderr above the program's descriptor limit when
 * one could be made; else stderr itself, while it is still the file it was at start (a program
 * that closed it and opened one of its own must not find the tracer's lines in its file). */
static int log_fd = 2;
static dev_t log_dev;
static ino_t log_ino;
static int log_checked;

void mw__sys_log_init(void)
{
    struct stat st;
    int fd = mw__sys_reserve_fd(2);

    if (fd >= 0) {
        log_fd = fd;
        return;
    }
    if (fstat(2, &st) == 0) {
        log_dev = st.st_dev;
        log_ino = st.st_ino;
        log_checked = 1;
    }
}

int mw__sys_log_fd(void)
{
    return log_fd == 2 ? -1 : log_fd;
}

static int log_ok(void)
{
    struct stat st;

    if (!log_checked)
        return 1;
    return fstat(log_fd, &st) == 0 && st.st_dev == log_dev && st.st_ino == log_ino;
}

void mw__leak_log2(const char *a, const char *b)
{
    char line[512];
    size_t n = 0, k;

    line[n++] = '=';
    line[n++] = '=';
    n += mw__utoa((uint64_t)getpid(), line + n);
    memcpy(line + n, "== memwalk: ", 12);
    n += 12;
    k = strlen(a);
    if (k > 200)
        k = 200;
    memcpy(line + n, a, k);
    n += k;
    if (b) {
        k = strlen(b);
        if (k > 200)
            k = 200;
        memcpy(line + n, b, k);
        n += k;
    }
    line[n++] = '\n';
    if (log_ok() && write(log_fd, line, n) < 0) {
        /* Nothing more can be done: stderr is gone. */
    }
}

void mw__leak_log(const char *msg)
{
    mw__leak_log2(msg, NULL);
}
