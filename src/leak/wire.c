/* The wire writer: framed messages (record.h) to memwalk's socket, or appended to the file that
 * MEMWALK_OUT names when the tracer is preloaded by hand; the result stream of one process.
 *
 * The descriptor is checked before every use: a program may close it, and a descriptor it opened
 * since may have the same number; the tracer never writes into the program's own files. The
 * file of MEMWALK_OUT is opened when the report is written, so a program that closes every
 * descriptor still gets it. */
#include "leak/leak.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int out_fd = -1;
static int out_is_sock;
static dev_t out_dev;
static ino_t out_ino;
static char out_path[4096]; /* MEMWALK_OUT, %p expanded at the time of writing */
static int out_failed;

static struct {
    mw__leak_msg_t hdr;
    char data[MW__LEAK_CHUNK];
} msg;
static size_t msg_used;

/* The path for this process: the pattern with %p replaced by the process id. */
static void expand_path(char *path, size_t len)
{
    const char *pat = mw__leak_env("MEMWALK_OUT");
    size_t n = 0;

    if (!pat || !*pat)
        pat = "memwalk-leaks.%p.out";
    for (; *pat && n < len - 24; pat++) {
        if (pat[0] == '%' && pat[1] == 'p') {
            n += mw__utoa((uint64_t)getpid(), path + n);
            pat++;
        } else {
            path[n++] = *pat;
        }
    }
    path[n] = '\0';
}

/* 1 when out_fd still is the descriptor the tracer was given. */
static int still_ours(void)
{
    struct stat st;

    return out_fd >= 0 && fstat(out_fd, &st) == 0 && st.st_dev == out_dev && st.st_ino == out_ino;
}

void mw__wire_open(int launch_fd)
{
    struct stat st;
    int type = 0, fd;
    socklen_t tl = sizeof type;

    if (launch_fd >= 0) {
        if (fstat(launch_fd, &st) < 0)
            return;
        out_is_sock = getsockopt(launch_fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0;
        if (!mw__leak_trace_children)
            fcntl(launch_fd, F_SETFD, FD_CLOEXEC);
        /* Our own copy, out of reach of a program that closes every descriptor it can; the
         * number memwalk gave stays for the programs this one executes. */
        out_fd = mw__sys_reserve_fd(launch_fd);
        if (out_fd < 0)
            out_fd = launch_fd;
        else if (!mw__leak_trace_children)
            close(launch_fd); /* the program's descriptors are numbered as they are natively */
        out_dev = st.st_dev;
        out_ino = st.st_ino;
        return;
    }
    /* By hand: the file is created (emptied) now and written when the process ends. */
    expand_path(out_path, sizeof out_path);
    fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        mw__leak_log2("cannot write the leak report to ", out_path);
        return;
    }
    close(fd);
    if (!mw__leak_env("MEMWALK_OUT"))
        mw__leak_log2("leak report will be written to ", out_path);
}

void mw__wire_after_fork(void)
{
    if (out_is_sock || out_fd >= 0)
        return;
    /* A child of a process traced by hand writes its own file (or appends to the shared one). */
    expand_path(out_path, sizeof out_path);
}

/* Opens the MEMWALK_OUT file for the report (by hand), or checks memwalk's socket. */
static int ready(void)
{
    if (out_is_sock || out_ino) {
        if (still_ours())
            return 1;
        mw__leak_log("cannot send the leak report: the program closed memwalk's descriptor");
        out_fd = -1;
        return 0;
    }
    if (!out_path[0])
        return 0;
    out_fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) {
        mw__leak_log2("cannot write the leak report to ", out_path);
        return 0;
    }
    return 1;
}

static void send_msg(uint16_t type, uint16_t flags, const void *payload, size_t len)
{
    mw__leak_msg_t h = {MW__LEAK_MAGIC, type, flags, (int32_t)getpid(), (uint32_t)len};
    char *p;
    size_t total = sizeof h + len, done = 0;

    if (out_fd < 0 || out_failed)
        return;
    p = (char *)&msg;
    if (payload != msg.data)
        memmove(msg.data, payload, len);
    memcpy(p, &h, sizeof h);
    while (done < total) {
        ssize_t r = out_is_sock ? send(out_fd, p + done, total - done, MSG_NOSIGNAL)
                                : write(out_fd, p + done, total - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            out_failed = 1;
            mw__leak_log("cannot send the leak report to memwalk (it went away?)");
            return;
        }
        done += (size_t)r;
        if (out_is_sock)
            break; /* a datagram goes whole or not at all */
    }
}

/* The message type put() fills: DATA, or another stream's (the heap profile's). */
static uint16_t put_type = MW__LEAK_MSG_DATA;

static void put(const void *p, size_t n)
{
    const char *s = p;

    while (n) {
        size_t k = MW__LEAK_CHUNK - msg_used;
        if (k > n)
            k = n;
        memcpy(msg.data + msg_used, s, k);
        msg_used += k;
        s += k;
        n -= k;
        if (msg_used == MW__LEAK_CHUNK) {
            send_msg(put_type, 0, msg.data, msg_used);
            msg_used = 0;
        }
    }
}

static void put_end(void)
{
    send_msg(put_type, MW__LEAK_MSG_END, msg.data, msg_used);
    msg_used = 0;
}

/* ---- the heap profile's stream (profile.c), sent before the result ------------------------- */
int mw__wire_stream_open(void)
{
    if ((out_fd < 0 || out_is_sock || out_ino) && !ready())
        return -1;
    put_type = MW__LEAK_MSG_PROFILE;
    return 0;
}

void mw__wire_stream_put(const void *p, size_t n)
{
    put(p, n);
}

void mw__wire_stream_close(void)
{
    put_end();
    put_type = MW__LEAK_MSG_DATA;
}

void mw__wire_hello(uint16_t flags)
{
    char buf[4096];
    ssize_t n = 0;
    int fd;
    const char *exe = (const char *)getauxval(AT_EXECFN);

    if (!out_is_sock || !still_ours())
        return;
    fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, buf, sizeof buf);
        close(fd);
    }
    if (exe && n > 0) {
        /* memcheck's Command: line names the program by the path execve was given. */
        size_t el = strlen(exe) + 1, a0 = strnlen(buf, (size_t)n) + 1;
        if (a0 <= (size_t)n && el + ((size_t)n - a0) <= sizeof buf) {
            memmove(buf + el, buf + a0, (size_t)n - a0);
            memcpy(buf, exe, el);
            n = (ssize_t)(el + ((size_t)n - a0));
        }
    }
    send_msg(MW__LEAK_MSG_HELLO, flags, buf, n > 0 ? (size_t)n : 0);
}

/* ---- the loaded objects, listed before the world stops ------------------------------------ */
#define MOD_BYTES (1u << 20)
static char *mods; /* the module records, ready to put */
static size_t mods_len;
static uint32_t nmods;

struct modlist {
    char *buf;
    size_t len, cap;
    uint32_t n;
};

static int add_module(struct modlist *l, uintptr_t bias, uintptr_t lo, uintptr_t hi,
                      const char *path)
{
    mw__leak_module_t m;

    m.bias = bias;
    m.lo = lo;
    m.hi = hi;
    m.path_len = (uint32_t)strlen(path);
    m.pad = 0;
    if (l->len + sizeof m + m.path_len > l->cap) {
        mw__leak_limit(MW__LEAK_LIMIT_MODULES, "too many loaded objects for the report");
        return -1;
    }
    memcpy(l->buf + l->len, &m, sizeof m);
    memcpy(l->buf + l->len + sizeof m, path, m.path_len);
    l->len += sizeof m + m.path_len;
    l->n++;
    return 0;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct modlist *l = arg;
    char abs[4096];
    const char *path = info->dlpi_name;
    uintptr_t lo, hi;

    (void)size;
    if (!mw__modules_extent(info, &lo, &hi))
        return 0;
    if (!path || !*path) {
        /* The main program (the first object), by the path read at start. */
        if (l->n != 0 || !mw__leak_exe()[0])
            return 0;
        path = mw__leak_exe();
    } else if (path[0] != '/') {
        mw__modules_abspath(path, abs, sizeof abs);
        path = abs;
    }
    return add_module(l, info->dlpi_addr, lo, hi, path) < 0;
}

size_t mw__wire_list_modules(char *buf, size_t cap, uint32_t *n)
{
    struct modlist l = {buf, 0, cap, 0};
    const mw__gone_t *gone;
    size_t ngone = mw__modules_gone(&gone), i;

    dl_iterate_phdr(module_cb, &l);
    /* Unloaded objects after the loaded ones: those win where they overlap. */
    for (i = 0; i < ngone; i++)
        if (add_module(&l, gone[i].bias, gone[i].lo, gone[i].hi, gone[i].path) < 0)
            break;
    *n = l.n;
    return l.len;
}

int mw__wire_modules(void)
{
    if (!mods)
        mods = mw__leak_map(MOD_BYTES);
    if (!mods)
        return -1;
    mods_len = mw__wire_list_modules(mods, MOD_BYTES, &nmods);
    return 0;
}

int mw__wire_live_fd(void)
{
    return out_is_sock && !out_failed && still_ours() ? out_fd : -1;
}

int mw__wire_own_fd(int fd, const void *stp)
{
    const struct stat *st = stp;

    return fd == out_fd || (out_ino && st->st_dev == out_dev && st->st_ino == out_ino);
}

/* ---- the result ---------------------------------------------------------------------------- */
/* Trace numbering: each trace the result names gets the next index, in order of first use. */
struct numbering {
    uint32_t *remap; /* trace id -> index + 1 */
    mw__pair_t *order;
    uint32_t used, ntr;
};

static void use_trace(uint32_t t, void *ctx)
{
    struct numbering *nb = ctx;

    if (t && t < nb->ntr && !nb->remap[t]) {
        nb->order[nb->used].key = nb->used;
        nb->order[nb->used].val = t;
        nb->remap[t] = ++nb->used;
    }
}

static uint32_t map_trace(uint32_t t, void *ctx)
{
    const struct numbering *nb = ctx;

    return t && t < nb->ntr && nb->remap[t] ? nb->remap[t] - 1 : MW__LEAK_NO_TRACE;
}

void mw__wire_result(int how, int code, const siginfo_t *si, const uintptr_t *fault,
                     uint32_t fault_depth, const struct mw__check_out *res, size_t unstopped)
{
    mw__leak_result_t r;
    uint32_t ntr = mw__traces_count(), *remap, used = 0;
    mw__pair_t *order;
    struct numbering nb;
    size_t i, k;

    if (!ready())
        return;
    remap = mw__leak_map(((size_t)ntr + 1) * sizeof(uint32_t));
    /* Loss records, error contexts and descriptors name at most that many traces. */
    order = mw__leak_map(((size_t)res->nrecs + 1 + (size_t)ntr) * sizeof(mw__pair_t));
    if (!remap || !order)
        return;
    /* Traces numbered in order of first use by a record. */
    for (i = 0; i < res->nrecs; i++) {
        uint32_t t = res->recs[i].trace;
        if (!remap[t]) {
            order[used].key = used;
            order[used].val = t;
            remap[t] = ++used;
        }
    }
    nb.remap = remap;
    nb.order = order;
    nb.used = used;
    nb.ntr = ntr;
    mw__errors_traces(use_trace, &nb);
    mw__fds_traces(use_trace, &nb);
    used = nb.used;
    memset(&r, 0, sizeof r);
    r.magic = MW__LEAK_MAGIC;
    r.version = MW__LEAK_VERSION;
    r.pid = getpid();
    r.ppid = getppid();
    r.end = (uint32_t)how;
    r.code = code;
    r.fault_code = si ? si->si_code : 0;
    r.fault_addr = si ? (uint64_t)(uintptr_t)si->si_addr : 0;
    r.fault_depth = fault_depth;
    mw__blocks_totals(&r.allocs, &r.frees, &r.bytes_allocated);
    r.nmodules = nmods; /* loaded objects first: they win on overlaps */
    r.ntraces = used;
    r.nrecords = (uint32_t)res->nrecs;
    r.threads_unstopped = (uint32_t)unstopped;
    r.scan_bytes = res->scan_bytes;
    memcpy(r.heur_bytes, res->heur_bytes, sizeof r.heur_bytes);
    memcpy(r.heur_blocks, res->heur_blocks, sizeof r.heur_blocks);
    r.limits = mw__leak_limits();
    r.flags = mw__exit_flags;
    put(&r, sizeof r);
    put(mods, mods_len);
    for (i = 0; i < used; i++) {
        unsigned depth;
        const uintptr_t *ips = mw__traces_get((uint32_t)order[i].val, &depth);
        uint32_t d = depth;
        put(&d, sizeof d);
        for (k = 0; k < depth; k++) {
            uint64_t ip = ips[k];
            put(&ip, sizeof ip);
        }
    }
    for (i = 0; i < res->nrecs; i++) {
        mw__leak_lossrec_t rec = res->recs[i];
        rec.trace = remap[rec.trace] - 1;
        put(&rec, sizeof rec);
    }
    for (i = 0; i < fault_depth; i++) {
        uint64_t ip = fault[i];
        put(&ip, sizeof ip);
    }
    mw__errors_write(put, map_trace, &nb);
    mw__fds_write(put, map_trace, &nb);
    put_end();
}
