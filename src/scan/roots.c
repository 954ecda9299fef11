/* Root ranges for conservative scanning: loaded objects' writable segments, stacks, TLS. */
#include "common/common.h"
#include "scan/procmaps.h"
#include "scan/scan.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Provided by ld.so: the stack address at process start, near the top of the main stack. */
extern void *__libc_stack_end __attribute__((weak));

struct data_walk {
    mw__range_fn fn;
    void *ctx;
    const mw__range_t *skip;
    size_t nskip;
    size_t count;
};

struct minus {
    const unsigned char *skip;
    size_t nskip, stride;
    void (*fn)(void *ctx, uintptr_t lo, uintptr_t hi);
    void *ctx;
};

/* [lo, hi) minus the skip ranges from index from on, recursing on the pieces a range leaves. */
static void minus(const struct minus *m, uintptr_t lo, uintptr_t hi, size_t from)
{
    size_t i;

    for (i = from; i < m->nskip && lo < hi; i++) {
        uintptr_t r[2];
        memcpy(r, m->skip + i * m->stride, sizeof r);
        if (r[1] <= lo || r[0] >= hi)
            continue;
        if (r[0] > lo)
            minus(m, lo, r[0], i + 1);
        lo = r[1] > lo ? r[1] : lo;
    }
    if (lo < hi)
        m->fn(m->ctx, lo, hi);
}

void mw__scan_minus(uintptr_t lo, uintptr_t hi, const void *skip, size_t nskip, size_t stride,
                    void (*fn)(void *ctx, uintptr_t lo, uintptr_t hi), void *ctx)
{
    struct minus m = {skip, nskip, stride, fn, ctx};

    minus(&m, lo, hi, 0);
}

struct emit {
    struct data_walk *w;
    const char *object;
};

static void emit_piece(void *ctx, uintptr_t lo, uintptr_t hi)
{
    struct emit *e = ctx;

    e->w->fn(e->w->ctx, lo, hi, MW__ROOT_DATA, e->object);
    e->w->count++;
}

/* Reports [lo, hi), a writable segment of object, minus every skip range. */
static void emit_minus(struct data_walk *w, uintptr_t lo, uintptr_t hi, const char *object)
{
    struct emit e = {w, object};

    mw__scan_minus(lo, hi, w->skip, w->nskip, sizeof *w->skip, emit_piece, &e);
}

static int data_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct data_walk *w = arg;
    uintptr_t relro_lo = 0, relro_hi = 0;
    int i;

    (void)size;
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_RELRO) {
            relro_lo = info->dlpi_addr + ph->p_vaddr;
            /* The loader makes whole pages read-only: round the end down to a page, as it does. */
            relro_hi = (relro_lo + ph->p_memsz) & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1);
        }
    }
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo, hi;
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        lo = info->dlpi_addr + ph->p_vaddr;
        hi = lo + ph->p_memsz;
        if (relro_hi > relro_lo && relro_lo < hi && relro_hi > lo) {
            if (relro_lo > lo)
                emit_minus(w, lo, relro_lo, info->dlpi_name);
            lo = relro_hi > lo ? relro_hi : lo;
        }
        if (lo < hi)
            emit_minus(w, lo, hi, info->dlpi_name);
    }
    return 0;
}

size_t mw__scan_data_roots(mw__range_fn fn, void *ctx, const mw__range_t *skip, size_t nskip)
{
    struct data_walk w = {fn, ctx, skip, nskip, 0};

    dl_iterate_phdr(data_cb, &w);
    return w.count;
}

static int tls_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct data_walk *w = arg;
    int i;

    if (size < offsetof(struct dl_phdr_info, dlpi_tls_data) + sizeof(info->dlpi_tls_data) ||
        !info->dlpi_tls_data)
        return 0;
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_TLS && ph->p_memsz) {
            uintptr_t lo = (uintptr_t)info->dlpi_tls_data;
            w->fn(w->ctx, lo, lo + ph->p_memsz, MW__ROOT_TLS, info->dlpi_name);
            w->count++;
        }
    }
    return 0;
}

size_t mw__scan_tls_roots(mw__range_fn fn, void *ctx)
{
    struct data_walk w = {fn, ctx, NULL, 0, 0};

    dl_iterate_phdr(tls_cb, &w);
    return w.count;
}

struct object_walk {
    uintptr_t addr;
    mw__range_t *out;
    size_t max;
    size_t n;
};

int mw__scan_load_extent(const struct dl_phdr_info *info, unsigned flags, uintptr_t addr,
                         uintptr_t *lo, uintptr_t *hi)
{
    int i, inside = 0;

    *lo = UINTPTR_MAX;
    *hi = 0;
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type != PT_LOAD)
            continue;
        if (addr >= a && addr < a + ph->p_memsz)
            inside = 1;
        if ((ph->p_flags & flags) == flags) {
            *lo = a < *lo ? a : *lo;
            *hi = a + ph->p_memsz > *hi ? a + ph->p_memsz : *hi;
        }
    }
    return inside;
}

static int object_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct object_walk *w = arg;
    int i;

    uintptr_t lo, hi;

    (void)size;
    if (!mw__scan_load_extent(info, 0, w->addr, &lo, &hi))
        return 0;
    for (i = 0; i < info->dlpi_phnum && w->n < w->max; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
            w->out[w->n].lo = info->dlpi_addr + ph->p_vaddr;
            w->out[w->n].hi = w->out[w->n].lo + ph->p_memsz;
            w->n++;
        }
    }
    return 1;
}

size_t mw__scan_object_ranges(const void *addr, mw__range_t *out, size_t max)
{
    struct object_walk w = {(uintptr_t)addr, out, max, 0};

    dl_iterate_phdr(object_cb, &w);
    return w.n;
}

/* Reads field 28 (startstack) of /proc/self/stat without stdio or malloc. */
static uintptr_t stat_start_stack(void)
{
    char buf[1024];
    ssize_t n;
    const char *p, *end;
    uint64_t v = 0;
    int fd, field;

    fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!p)
        return 0;
    for (field = 2; *p && field < 28; p++)
        if (*p == ' ')
            field++;
    if (mw__parse_dec(p, &end, &v) < 0)
        return 0;
    return (uintptr_t)v;
}

uintptr_t mw__scan_main_stack_base(void)
{
    static uintptr_t base;
    uintptr_t b = __atomic_load_n(&base, __ATOMIC_RELAXED);

    if (b)
        return b;
    if (&__libc_stack_end && __libc_stack_end)
        b = (uintptr_t)__libc_stack_end;
    else
        b = stat_start_stack();
    /* Everything above startstack (argv, envp, auxv) is stack too: scan to the page end. The
     * strings there hold no heap pointers, and the pointer arrays only point into the stack. */
    if (b) {
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        b = (b + page - 1) & ~(page - 1);
    }
    __atomic_store_n(&base, b, __ATOMIC_RELAXED);
    return b;
}

/* One question to /proc/self/maps: which mapping holds addr ([lo, hi), found), and where the
 * mapping below it ends (below; 0 when there is none). */
struct maps_query {
    uintptr_t addr;
    uintptr_t lo, hi, below;
    int found;
};

/* Answers the queries from one pass over /proc/self/maps, without stdio or malloc (the shared
 * allocation-free reader; a line it cannot parse is skipped). Returns 0 or -errno. */
static int maps_query(struct maps_query *q, size_t n)
{
    char buf[8192];
    mw__maps_reader_t rd;
    mw__maps_line_t l;
    uintptr_t prev_end = 0;
    size_t i;
    int r, err = mw__maps_open(&rd, "/proc/self/maps", buf, sizeof buf);

    if (err < 0)
        return err;
    while ((r = mw__maps_next(&rd, &l)) != 0) {
        if (r == -EINVAL)
            continue;
        if (r < 0) {
            err = r;
            break;
        }
        for (i = 0; i < n; i++)
            if (!q[i].found && q[i].addr >= l.lo && q[i].addr < l.hi) {
                q[i].lo = l.lo;
                q[i].hi = l.hi;
                q[i].below = prev_end;
                q[i].found = 1;
            }
        prev_end = l.hi;
    }
    mw__maps_close(&rd);
    return err;
}

int mw__scan_thread_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    int r;

    if (syscall(SYS_gettid) == getpid()) {
        struct rlimit rl;
        uintptr_t base = mw__scan_main_stack_base();
        struct maps_query q = {0};
        if (!base)
            return -ENOENT;
        /* The [stack] mapping grows down on demand, as far as the stack limit allows (without
         * limit, until the mapping below): its lowest address now is the bound that is always
         * right, and mw__scan_stack_ranges lowers it when the stack has grown since. */
        q.addr = base - 1;
        if (maps_query(&q, 1) == 0 && q.found) {
            *lo = q.lo;
            *hi = base;
            return 0;
        }
        /* No /proc: only a finite limit bounds the stack. */
        if (getrlimit(RLIMIT_STACK, &rl) < 0)
            return -errno;
        if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= base)
            return -ERANGE;
        *lo = base - rl.rlim_cur;
        *hi = base;
        return 0;
    }
    r = pthread_getattr_np(pthread_self(), &attr);
    if (r)
        return -r;
    r = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    if (r)
        return -r;
    *lo = (uintptr_t)addr;
    *hi = (uintptr_t)addr + size;
    return 0;
}

int mw__scan_stack_ranges(uintptr_t sp, uintptr_t *lo, uintptr_t hi, mw__range_t out[2])
{
    struct maps_query q[2] = {{0}, {0}};
    int r, n = 0;

    if (sp >= *lo && sp < hi) {
        out[0].lo = sp;
        out[0].hi = hi;
        return 1;
    }
    q[0].addr = sp;
    q[1].addr = hi - 1;
    r = maps_query(q, 2);
    if (r < 0)
        return r;
    if (!q[1].found || !q[0].found)
        return -EFAULT;
    if (q[0].lo == q[1].lo && sp < hi) {
        /* The same mapping: a main stack that grew (deeper than ever, or past a limit lifted
         * at run time). */
        *lo = q[1].lo;
        out[0].lo = sp;
        out[0].hi = hi;
        return 1;
    }
    /* A stack of its own (a coroutine's, an alternate signal stack): from sp to the end of its
     * mapping; and all of the thread's stack, since where its frames end is not known. */
    out[n].lo = sp;
    out[n++].hi = q[0].hi;
    out[n].lo = q[1].lo > *lo ? q[1].lo : *lo;
    out[n++].hi = hi;
    return n;
}

__attribute__((noinline)) void mw__scan_with_registers(void (*fn)(void *ctx, uintptr_t sp),
                                                       void *ctx)
{
    uintptr_t regs[MW__SCAN_NREGS] = {0};
    uintptr_t sp;

    /* Forces the compiler to save every callee-saved register in this frame, and stores them once
     * more explicitly, since where the prologue saves them is up to the compiler (and jmp_buf
     * mangles rbp, so setjmp is no substitute). */
    __builtin_unwind_init();
    MW__SCAN_SPILL(regs);
    MW__SCAN_SP(sp);
    if ((uintptr_t)regs < sp)
        sp = (uintptr_t)regs;
    fn(ctx, sp);
    /* Keeps regs (and this frame) alive until fn has returned. */
    __asm__ volatile("" : : "r"(regs) : "memory");
}
