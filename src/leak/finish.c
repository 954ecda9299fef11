/* How a traced process ends: the exit handler, _exit, fatal signals and fork; then the leak
 * check and the result stream written to the memwalk process (or a file by hand). */
#include "leak/leak.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static pid_t our_pid;
static int finishing;
static int out_fd = -1;
static int out_is_sock;
static void (*libc_freeres)(void);
static int trace_children;

/* ---- options ------------------------------------------------------------------------------ */
static int parse_int(const char *s, int lo, int hi, int def)
{
    long v = 0;

    if (!s || !*s)
        return def;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000)
            return def;
        v = v * 10 + (*s - '0');
    }
    return v < lo ? lo : v > hi ? hi : (int)v;
}

/* Overwrites our own path inside LD_PRELOAD with blanks, so programs this one executes do not
 * load the tracer (memcheck's --trace-children=no). No allocation: the string is edited in
 * place. */
static void drop_from_ld_preload(void)
{
    extern char **environ;
    Dl_info info;
    const char *self;
    char **e;
    size_t n;

    if (!dladdr((void *)&drop_from_ld_preload, &info) || !info.dli_fname)
        return;
    self = info.dli_fname;
    n = strlen(self);
    for (e = environ; e && *e; e++) {
        char *v, *hit;
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
            continue;
        v = *e + 11;
        while ((hit = strstr(v, self)) != NULL) {
            char end = hit[n];
            if ((hit == v || hit[-1] == ' ' || hit[-1] == ':') &&
                (end == '\0' || end == ' ' || end == ':'))
                memset(hit, ' ', n);
            v = hit + n;
        }
        /* Also the bare file name a user may have written. */
    }
}

/* ---- output ------------------------------------------------------------------------------- */
static struct {
    mw__leak_msg_t hdr;
    char data[MW__LEAK_CHUNK];
} msg;
static size_t msg_used;
static int out_failed;

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
            send_msg(MW__LEAK_MSG_DATA, 0, msg.data, msg_used);
            msg_used = 0;
        }
    }
}

static void put_end(void)
{
    send_msg(MW__LEAK_MSG_DATA, MW__LEAK_MSG_END, msg.data, msg_used);
    msg_used = 0;
}

/* memwalk passes everything in one variable, so the program's environment grows by two
 * entries (LD_PRELOAD and this), as under valgrind: "E,FD,CALLERS,CHILDREN" where E is 0 for
 * the program memwalk started and 1 once a traced program has seen it. */
static char *launch;
static int launch_fd = -1;

static void parse_launch(void)
{
    const char *p;
    int field = 0;
    long v = 0;

    launch = (char *)mw__leak_env("MEMWALK_LAUNCH");
    if (!launch || (launch[0] != '0' && launch[0] != '1'))
        return;
    for (p = launch + 1;; p++) {
        if (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p - '0');
            continue;
        }
        if (field == 1)
            launch_fd = (int)v;
        else if (field == 2)
            mw__leak_num_callers = v < 1                      ? 1
                                   : v > MW__LEAK_MAX_CALLERS ? MW__LEAK_MAX_CALLERS
                                                              : (int)v;
        v = 0;
        field++;
        if (*p == ',' && field == 3) {
            trace_children = p[1] == 'y';
            break;
        }
        if (*p != ',')
            break;
    }
}

/* Opens where the result goes: memwalk's socket, or the MEMWALK_OUT pattern by hand. */
static int open_output(void)
{
    const char *pat = mw__leak_env("MEMWALK_OUT");
    char path[4096];
    size_t n = 0;

    if (launch_fd >= 0) {
        int type = 0;
        socklen_t tl = sizeof type;
        out_fd = launch_fd;
        if (fcntl(out_fd, F_GETFD) < 0)
            out_fd = -1;
        out_is_sock = out_fd >= 0 && getsockopt(out_fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0;
        return out_fd;
    }
    if (!pat || !*pat)
        pat = "memwalk-leaks.%p.out";
    for (; *pat && n < sizeof path - 24; pat++) {
        if (pat[0] == '%' && pat[1] == 'p') {
            n += mw__leak_utoa((uint64_t)getpid(), path + n);
            pat++;
        } else {
            path[n++] = *pat;
        }
    }
    path[n] = '\0';
    out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    out_is_sock = 0;
    if (out_fd < 0)
        mw__leak_log2("cannot write the leak report to ", path);
    else if (!mw__leak_env("MEMWALK_OUT"))
        mw__leak_log2("leak report will be written to ", path);
    return out_fd;
}

void mw__send_hello(uint16_t flags)
{
    char buf[4096];
    ssize_t n = 0;
    int fd;
    const char *exe = (const char *)getauxval(AT_EXECFN);

    if (out_fd < 0 || !out_is_sock)
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

/* ---- the result --------------------------------------------------------------------------- */
struct mod_walk {
    int count_only;
    uint32_t n;
};

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct mod_walk *w = arg;
    mw__leak_module_t m;
    char exe[4096], abs[4096];
    const char *path = info->dlpi_name;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    int i;

    (void)size;
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD) {
            uintptr_t a = info->dlpi_addr + ph->p_vaddr;
            lo = a < lo ? a : lo;
            hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
        }
    }
    if (hi <= lo)
        return 0;
    if (!path || !*path) {
        ssize_t k = w->n == 0 ? readlink("/proc/self/exe", exe, sizeof exe - 1) : -1;
        if (k <= 0)
            return 0;
        exe[k] = '\0';
        path = exe;
    } else if (path[0] != '/') {
        mw__modules_abspath(path, abs, sizeof abs);
        path = abs;
    }
    w->n++;
    if (w->count_only)
        return 0;
    m.bias = info->dlpi_addr;
    m.lo = lo;
    m.hi = hi;
    m.path_len = (uint32_t)strlen(path);
    m.pad = 0;
    put(&m, sizeof m);
    put(path, m.path_len);
    return 0;
}

static void write_result(int how, int code, const siginfo_t *si, const uintptr_t *fault,
                         uint32_t fault_depth, const struct mw__check_out *res, size_t unstopped)
{
    mw__leak_result_t r;
    struct mod_walk w = {1, 0};
    uint32_t ntr = mw__traces_count(), *remap, used = 0;
    const mw__gone_t *gone;
    size_t ngone;
    size_t i, remap_len = ((size_t)ntr + 1) * sizeof(uint32_t);

    remap = mw__leak_map(remap_len);
    if (!remap)
        return;
    for (i = 0; i < res->nrecs; i++) {
        uint32_t t = res->recs[i].trace;
        if (!remap[t])
            remap[t] = ++used;
    }
    dl_iterate_phdr(module_cb, &w);
    ngone = mw__modules_gone(&gone);
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
    r.nmodules = w.n + (uint32_t)ngone; /* loaded objects first: they win on overlaps */
    r.ntraces = used;
    r.nrecords = (uint32_t)res->nrecs;
    r.threads_unstopped = (uint32_t)unstopped;
    r.scan_bytes = res->scan_bytes;
    memcpy(r.heur_bytes, res->heur_bytes, sizeof r.heur_bytes);
    memcpy(r.heur_blocks, res->heur_blocks, sizeof r.heur_blocks);
    put(&r, sizeof r);
    w.count_only = 0;
    w.n = 0;
    dl_iterate_phdr(module_cb, &w);
    for (i = 0; i < ngone; i++) {
        mw__leak_module_t m;
        m.bias = gone[i].bias;
        m.lo = gone[i].lo;
        m.hi = gone[i].hi;
        m.path_len = (uint32_t)strlen(gone[i].path);
        m.pad = 0;
        put(&m, sizeof m);
        put(gone[i].path, m.path_len);
    }
    /* Traces in remap order. */
    {
        uint32_t k = 1;
        for (i = 0; i < ntr && k <= used; i++) {
            if (remap[i] != k)
                continue;
            {
                unsigned depth;
                const uintptr_t *ips = mw__traces_get((uint32_t)i, &depth);
                uint32_t d = depth;
                size_t j;
                put(&d, sizeof d);
                for (j = 0; j < depth; j++) {
                    uint64_t ip = ips[j];
                    put(&ip, sizeof ip);
                }
            }
            k++;
            i = (size_t)-1; /* restart: remap order differs from id order */
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
    put_end();
}

/* Runs the check and writes the result. self_sp: where the exiting thread's live stack starts;
 * regs: its registers. */
static void finish(int how, int code, uintptr_t self_sp, const uintptr_t *regs, unsigned nregs,
                   const siginfo_t *si, const uintptr_t *fault, uint32_t fault_depth)
{
    static mw__thread_regs_t threads[1024];
    struct mw__check_in in;
    struct mw__check_out res;
    size_t nthreads, i, unstopped = 0;

    /* Threads that never allocated leave mw__leak_mt unset: ask libc too. */
    nthreads = mw__leak_mt || !__libc_single_threaded ? mw__world_stop(threads, 1024) : 0;
    for (i = 0; i < nthreads; i++)
        unstopped += !threads[i].stopped;
    /* Batched frees of every thread happen now: the others are stopped outside the tracer. */
    mw__leak_flush_all();
    /* memcheck releases libc's buffers at a normal exit (not on a fatal signal): the frees
     * count, so tracking stays on for this thread while it runs. */
    if (how != MW__LEAK_END_SIGNAL && libc_freeres) {
        void (*cxx_freeres)(void);
        mw__leak_self.busy++;
        cxx_freeres = (void (*)(void))dlsym(RTLD_DEFAULT, "_ZN9__gnu_cxx9__freeresEv");
        mw__leak_self.busy--;
        if (cxx_freeres)
            cxx_freeres();
        libc_freeres();
    }
    mw__leak_flush(&mw__leak_self); /* the frees freeres made */
    mw__leak_self.busy++;
    __atomic_store_n(&mw__leak_state, MW__DONE, __ATOMIC_RELEASE);
    in.self_sp = self_sp;
    in.self_regs = regs;
    in.self_nregs = nregs;
    in.threads = threads;
    in.nthreads = nthreads;
    if (mw__check_run(&in, &res) < 0) {
        mw__leak_log("out of memory for the leak check: no report");
        return;
    }
    if (out_fd < 0)
        open_output();
    write_result(how, code, si, fault, fault_depth, &res, unstopped);
}

static int claim(void)
{
    int expected = 0;

    if (getpid() != our_pid)
        return 0; /* a vfork child, or a clone we were not told about */
    if (__atomic_load_n(&mw__leak_state, __ATOMIC_ACQUIRE) != MW__ON)
        return 0;
    return __atomic_compare_exchange_n(&finishing, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

#define SPILL(regs)                                                                     \
    __asm__ volatile("movq %%rbx, 0(%0)\n\tmovq %%rbp, 8(%0)\n\tmovq %%r12, 16(%0)\n\t" \
                     "movq %%r13, 24(%0)\n\tmovq %%r14, 32(%0)\n\tmovq %%r15, 40(%0)"   \
                     :                                                                  \
                     : "r"(regs)                                                        \
                     : "memory")

void mw__finish_exit(int status, uintptr_t sp, int how)
{
    uintptr_t regs[6] = {0};

    __builtin_unwind_init();
#if defined(__x86_64__)
    SPILL(regs);
#endif
    if (!claim())
        return;
    finish(how, status, sp, regs, 6, NULL, NULL, 0);
}

/* The exit handler: registered before the loader's own, it runs after every destructor. It
 * starts the stack scan at exit()'s caller, as memcheck does not see exit's dead callees. */
static void at_exit(int status, void *arg)
{
    uintptr_t *fp = __builtin_frame_address(0);
    uintptr_t ips[12], sps[12], sp = (uintptr_t)(fp + 2);
    uintptr_t regs[6] = {0};
    unsigned n, i;
    Dl_info info;
    const ElfW(Sym) * sym;

    (void)arg;
    __builtin_unwind_init();
#if defined(__x86_64__)
    SPILL(regs);
#endif
    if (!claim())
        return;
    mw__leak_self.busy++;
    if (!mw__leak_self.inited)
        mw__leak_thread_init();
    n = mw__unwind(fp[1], (uintptr_t)(fp + 2), fp[0], ips, 12);
    /* Recompute the stack pointer of each frame: walk again keeping CFAs. */
    {
        uintptr_t s = (uintptr_t)(fp + 2);
        sps[0] = s;
        for (i = 0; i + 1 < n; i++) {
            /* find the slot holding ips[i + 1] above s: that is frame i's return address */
            uintptr_t a = s, hi = mw__leak_self.stack_hi;
            while (a + 8 <= hi && *(const uintptr_t *)a != ips[i + 1])
                a += 8;
            s = a + 8;
            sps[i + 1] = s;
        }
    }
    for (i = 0; i < n; i++) {
        if (dladdr1((void *)(ips[i] - 1), &info, (void **)&sym, RTLD_DL_SYMENT) && sym &&
            info.dli_sname && strcmp(info.dli_sname, "exit") == 0) {
            if (i + 1 < n)
                sp = sps[i + 1];
            break;
        }
    }
    mw__leak_self.busy--;
    finish(MW__LEAK_END_EXIT, status, sp, regs, 6, NULL, NULL, 0);
}

/* ---- fatal signals ------------------------------------------------------------------------ */
static const int fatal[] = {SIGSEGV, SIGBUS,  SIGFPE,  SIGILL,  SIGABRT, SIGTRAP,
                            SIGSYS,  SIGTERM, SIGINT,  SIGHUP,  SIGQUIT, SIGXCPU,
                            SIGXFSZ, SIGALRM, SIGUSR1, SIGUSR2, SIGPIPE, SIGVTALRM};

static int in_own_code(uintptr_t pc)
{
    Dl_info a, b;

    return dladdr((void *)pc, &a) && dladdr((void *)&in_own_code, &b) && a.dli_fbase == b.dli_fbase;
}

static void on_fatal(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    int sync =
        (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP) &&
        si && si->si_code > 0;
    struct sigaction dfl;
    sigset_t set;
    uintptr_t regs[NGREG], fault[MW__LEAK_MAX_CALLERS];
    unsigned nregs = 0, depth = 0;
    int r;

    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    if (mw__leak_self.busy && !sync) {
        /* Inside a hook: tables may be mid-update. Die once the hook is done. */
        mw__leak_self.stop_pending = 1;
        sigaction(sig, &dfl, NULL);
        return;
    }
    sigaction(sig, &dfl, NULL);
#if defined(__x86_64__)
    if (mw__leak_self.busy && in_own_code((uintptr_t)uc->uc_mcontext.gregs[REG_RIP])) {
        mw__leak_log("internal fault in the tracer: no leak report");
    } else if (claim()) {
        uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        for (r = 0; r < NGREG; r++)
            if (r != REG_RIP && r != REG_EFL && r != REG_CSGSFS && r != REG_ERR &&
                r != REG_TRAPNO && r != REG_OLDMASK && r != REG_CR2)
                regs[nregs++] = (uintptr_t)uc->uc_mcontext.gregs[r];
        mw__leak_self.busy++;
        if (!mw__leak_self.inited)
            mw__leak_thread_init();
        depth = mw__unwind_from((uintptr_t)uc->uc_mcontext.gregs[REG_RIP], sp,
                                (uintptr_t)uc->uc_mcontext.gregs[REG_RBP], fault,
                                (unsigned)mw__leak_num_callers, mw__leak_self.stack_hi);
        mw__leak_self.busy--;
        finish(MW__LEAK_END_SIGNAL, sig, sp - 128, regs, nregs, si, fault, depth);
    }
#else
    (void)uc;
    (void)regs;
    (void)nregs;
    (void)depth;
    (void)r;
    if (claim())
        finish(MW__LEAK_END_SIGNAL, sig, (uintptr_t)__builtin_frame_address(0), NULL, 0, si, fault,
               0);
#endif
    if (sync)
        return; /* the instruction faults again, now with the default action */
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

static void install_signals(void)
{
    static char altstack[64 << 10] __attribute__((aligned(16)));
    stack_t ss, old;
    size_t i;

    /* A stack overflow can only be reported from another stack. */
    if (sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE)) {
        ss.ss_sp = altstack;
        ss.ss_size = sizeof altstack;
        ss.ss_flags = 0;
        sigaltstack(&ss, NULL);
    }
    for (i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction cur, sa;
        if (sigaction(fatal[i], NULL, &cur) < 0 || (cur.sa_flags & SA_SIGINFO) ||
            cur.sa_handler != SIG_DFL)
            continue; /* the program's choice (or inherited SIG_IGN) stands */
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fatal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        sigfillset(&sa.sa_mask);
        sigaction(fatal[i], &sa, NULL);
    }
}

/* ---- fork --------------------------------------------------------------------------------- */
static void fork_prepare(void)
{
    mw__leak_self.busy++;
    mw__unwind_lock();
    mw__traces_lock();
    mw__blocks_lock_all();
}

static void fork_parent(void)
{
    mw__blocks_unlock_all();
    mw__traces_unlock();
    mw__unwind_unlock();
    mw__leak_self.busy--;
}

static void fork_child(void)
{
    mw__blocks_unlock_all();
    mw__traces_unlock();
    mw__unwind_unlock();
    mw__leak_self.busy--;
    our_pid = getpid();
    mw__leak_threads_after_fork();
    mw__leak_self.inited = 0; /* this thread is the child's main thread now */
    mw__send_hello(MW__LEAK_HELLO_FORKED);
}

void mw__finish_install(void)
{
    const char *v;

    our_pid = getpid();
    mw__leak_num_callers =
        parse_int(mw__leak_env("MEMWALK_NUM_CALLERS"), 1, MW__LEAK_MAX_CALLERS, 12);
    v = mw__leak_env("MEMWALK_TRACE_CHILDREN");
    trace_children = v && (strcmp(v, "yes") == 0 || strcmp(v, "1") == 0);
    parse_launch();
    if (launch && launch[0] == '1' && !trace_children) {
        /* A program executed by the traced one, LD_PRELOAD kept by its environment. */
        __atomic_store_n(&mw__leak_state, MW__PASSIVE, __ATOMIC_RELEASE);
        return;
    }
    if (launch)
        launch[0] = '1'; /* in place: programs this one executes see they were exec'd */
    open_output();
    if (!trace_children) {
        drop_from_ld_preload();
        if (out_fd >= 0)
            fcntl(out_fd, F_SETFD, FD_CLOEXEC);
    }
    mw__leak_self.busy++;
    libc_freeres = (void (*)(void))dlsym(RTLD_DEFAULT, "__libc_freeres");
    on_exit(at_exit, NULL);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    mw__leak_self.busy--;
    install_signals();
    mw__send_hello(0);
}
