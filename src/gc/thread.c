/* Threads: registration, the lock, stopping the registered threads with a signal while the
 * collector marks (each stopped thread parks in the handler, its registers saved by the kernel in
 * the signal frame on its own stack, which is scanned from the handler's frame up), and the
 * pthread wrappers (mw_gc_pthread_create and friends).
 *
 * Stopping never waits forever. A registered thread keeps the stop signal unblocked: registering
 * unblocks it in the calling thread, and mw_gc_pthread_sigmask never blocks it. A thread that
 * blocks it anyway cannot be stopped asynchronously, and is never safe to scan while it runs: the
 * collector waits up to MEMWALK_GC_STOP_TIMEOUT seconds for it to let the signal in (reading its
 * state in /proc/self/task/TID/status to say why it waits), then stops the program with a message
 * that names the thread and the remedy. A thread that is merely slow to run (the signal pending
 * and unblocked) is waited for. */
#include "common/common.h"
#include "gc/gc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "scan/scan.h"

__thread struct mw__gc_thread *mw__gc_self __attribute__((tls_model("initial-exec")));

/* Cancellation is off while a thread holds the lock: a cancelled collector would leave the lock
 * held and the world stopped. */
void mw__gc_lock(void)
{
    int old;

    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_mutex_lock(&mw__gc.lock);
    mw__gc.lock_cancel = old;
}

void mw__gc_unlock(void)
{
    int old = mw__gc.lock_cancel;

    pthread_mutex_unlock(&mw__gc.lock);
    if (old != PTHREAD_CANCEL_DISABLE)
        pthread_setcancelstate(old, NULL);
}

static int gettid_(void)
{
    return (int)syscall(SYS_gettid);
}

static long futex_wait(uint32_t *addr, uint32_t val, const struct timespec *rel)
{
    return syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, rel, NULL, 0);
}

static void futex_wake(uint32_t *addr, int n)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static void tls_cb(void *ctx, uintptr_t lo, uintptr_t hi, enum mw__root_kind kind,
                   const char *object)
{
    struct mw__gc_thread *t = ctx;

    (void)kind;
    (void)object;
    if (t->tls_n < (int)MW__GC_MIN(sizeof t->tls_lo / sizeof t->tls_lo[0], 8)) {
        t->tls_lo[t->tls_n] = lo;
        t->tls_hi[t->tls_n] = hi;
        t->tls_n++;
    }
}

static struct mw__gc_thread *thread_new(int *err)
{
    struct mw__gc_thread *t;
    int r;

    t = mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED) {
        *err = -ENOMEM;
        return NULL;
    }
    r = mw__scan_thread_stack_bounds(&t->stack_lo, &t->stack_hi);
    if (r < 0) {
        munmap(t, sizeof *t);
        *err = r;
        return NULL;
    }
    t->self = pthread_self();
    t->tid = gettid_();
    mw__scan_tls_roots(tls_cb, t);
    return t;
}

/* ---- the stop signal ------------------------------------------------------------------------ */

static void stop_handler(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    struct mw__gc_thread *t = mw__gc_self;
    uint32_t w = __atomic_load_n(&mw__gc.world, __ATOMIC_ACQUIRE);
    volatile uintptr_t here = 0;

    (void)sig;
    (void)si;
    (void)uc;
    if (t && (w & 1) && __atomic_load_n(&t->ack, __ATOMIC_RELAXED) != w) {
        /* The interrupted registers are in the signal frame, above this frame. */
        t->stop_sp = (uintptr_t)&here;
        __atomic_store_n(&t->ack, w, __ATOMIC_RELEASE);
        __atomic_add_fetch(&mw__gc.acked, 1, __ATOMIC_RELEASE);
        futex_wake(&mw__gc.acked, 1);
        while (__atomic_load_n(&mw__gc.world, __ATOMIC_ACQUIRE) == w)
            futex_wait((uint32_t *)&mw__gc.world, w, NULL);
    }
    errno = saved;
}

/* Takes the stop signal for the collector, unless the program handles it itself. Lock held.
 * Returns 0 or -EBUSY. */
static int claim_signal(void)
{
    struct sigaction sa, cur;

    if (mw__gc.handler_installed)
        return 0;
    if (sigaction(mw__gc.opt.signal, NULL, &cur) < 0)
        return -errno;
    if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN)
        return -EBUSY;
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction != stop_handler)
        return -EBUSY;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = stop_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(mw__gc.opt.signal, &sa, NULL) < 0)
        return -errno;
    mw__gc.handler_installed = 1;
    return 0;
}

/* Registration: the collector takes its signal and lets it in, in the calling thread (a thread
 * may have inherited a mask that blocks everything). Lock held. A first thread does without the
 * signal when the program handles it (nobody needs stopping yet); a later one cannot. */
static int signal_ready(int needed)
{
    sigset_t set;
    int r = claim_signal();

    if (r < 0) {
        if (!needed)
            return 0;
        mw__gc_warn("signal %d (MEMWALK_GC_SIGNAL) has a handler of the program's: the collector "
                    "cannot stop threads with it; pick a signal the program leaves alone",
                    mw__gc.opt.signal);
        return r;
    }
    sigemptyset(&set);
    sigaddset(&set, mw__gc.opt.signal);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return 0;
}

static void thread_link(struct mw__gc_thread *t)
{
    t->next = mw__gc.threads;
    mw__gc.threads = t;
    mw__gc.nthreads++;
}

/* Unlinks t and gives its cursors' unused slots back. Lock held. */
static void thread_unlink(struct mw__gc_thread *t)
{
    struct mw__gc_thread **pp;
    unsigned k, c;

    for (k = 0; k < MW__GC_KINDS; k++)
        for (c = 0; c < MW__GC_NCLASSES; c++)
            mw__gc_cursor_release(&t->cur[k][c], 1);
    for (pp = &mw__gc.threads; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            mw__gc.nthreads--;
            break;
        }
}

static void key_destructor(void *arg)
{
    struct mw__gc_thread *t = arg;

    /* The thread exits still registered: unregister it for it. */
    mw__gc_lock();
    thread_unlink(t);
    mw__gc_unlock();
    if (mw__gc_self == t)
        mw__gc_self = NULL;
    munmap(t, sizeof *t);
}

static void atfork_prepare(void)
{
    mw__gc_lock();
}

static void atfork_parent(void)
{
    mw__gc_unlock();
}

static void atfork_child(void)
{
    struct mw__gc_thread *t, *next, *self = mw__gc_self;
    int old = mw__gc.lock_cancel;

    /* Only the forking thread lives on in the child: no other thread to stop, join or detach,
     * and no helper marker. */
    for (t = mw__gc.threads; t; t = next) {
        next = t->next;
        if (t != self) {
            thread_unlink(t);
            munmap(t, sizeof *t);
        }
    }
    if (self)
        self->tid = gettid_();
    mw__gc.exits.len = 0;
    mw__gc_markers_forget();
    pthread_mutex_init(&mw__gc.lock, NULL);
    if (old != PTHREAD_CANCEL_DISABLE)
        pthread_setcancelstate(old, NULL);
}

void mw__gc_threads_init(void)
{
    if (pthread_key_create(&mw__gc.key, key_destructor) != 0)
        mw__gc_fatal("cannot set up thread support");
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int mw_gc_register_thread(void)
{
    struct mw__gc_thread *t;
    int err = 0;

    mw__gc_init();
    if (mw__gc_self)
        return 0;
    t = thread_new(&err);
    if (!t)
        return err;
    mw__gc_lock();
    if ((err = signal_ready(mw__gc.nthreads >= 1)) < 0) {
        mw__gc_unlock();
        munmap(t, sizeof *t);
        return err;
    }
    /* Known to its own signal handler before any collector can signal it. */
    mw__gc_self = t;
    thread_link(t);
    mw__gc.ever_attached = 1;
    mw__gc_unlock();
    pthread_setspecific(mw__gc.key, t);
    return 0;
}

int mw_gc_unregister_thread(void)
{
    struct mw__gc_thread *t = mw__gc_self;

    if (!t)
        return -EINVAL;
    mw__gc_lock();
    thread_unlink(t);
    mw__gc_unlock();
    pthread_setspecific(mw__gc.key, NULL);
    mw__gc_self = NULL;
    munmap(t, sizeof *t);
    return 0;
}

struct mw__gc_thread *mw__gc_attach(void)
{
    struct mw__gc_thread *t;
    int owner = 0, err = 0;

    mw__gc_init();
    t = thread_new(&err);
    if (!t)
        mw__gc_fatal("cannot find the calling thread's stack (error %d)", -err);
    mw__gc_lock();
    if (mw__gc.nthreads == 0 && !mw__gc.ever_attached) {
        signal_ready(0);
        mw__gc.ever_attached = 1;
        mw__gc_self = t;
        thread_link(t);
        mw__gc_unlock();
        pthread_setspecific(mw__gc.key, t);
        return t;
    }
    if (mw__gc.threads)
        owner = mw__gc.threads->tid;
    mw__gc_unlock();
    munmap(t, sizeof *t);
    mw__gc_fatal("thread %d called the collector without mw_gc_register_thread() (thread %d "
                 "uses it); register every thread that allocates or holds collected pointers",
                 gettid_(), owner);
}

/* ---- stopping the world --------------------------------------------------------------------- */

/* What a look at a thread that has not stopped found. */
enum probe {
    PROBE_NONE = 0,
    PROBE_PENDING, /* the signal waits for the thread to run (busy machine, debugger) */
    PROBE_BLOCKED, /* the thread blocks the signal */
    PROBE_LOST,    /* neither pending nor blocked: taken by sigwait or signalfd, sent again */
    PROBE_GONE,    /* the thread no longer exists */
    PROBE_UNKNOWN, /* no /proc to tell */
};

static uint64_t sigmask_field(const char *buf, const char *name)
{
    const char *p = strstr(buf, name);
    uint64_t v = 0;

    if (!p)
        return 0;
    for (p += strlen(name); *p == ' ' || *p == '\t'; p++)
        ;
    return mw__parse_hex(p, &p, &v) == 0 ? v : 0;
}

/* Reads the thread's signal state from /proc without stdio or malloc (a stopped thread may hold
 * their locks). */
static enum probe probe(const struct mw__gc_thread *t)
{
    char path[64], buf[4096];
    uint64_t bit = (uint64_t)1 << (mw__gc.opt.signal - 1);
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/proc/self/task/%d/status", t->tid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? PROBE_GONE : PROBE_UNKNOWN;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return PROBE_UNKNOWN;
    buf[n] = '\0';
    if (sigmask_field(buf, "SigBlk:") & bit)
        return PROBE_BLOCKED;
    if ((sigmask_field(buf, "SigPnd:") | sigmask_field(buf, "ShdPnd:")) & bit)
        return PROBE_PENDING;
    return PROBE_LOST;
}

/* The thread vanished without unregistering (a raw exit system call): nothing of it may be read
 * any more. It is dropped when the world restarts. */
static void forget_gone(struct mw__gc_thread *t, uint32_t w)
{
    t->stop_sp = 0;
    t->tls_n = 0;
    t->probed = PROBE_GONE;
    __atomic_store_n(&t->ack, w, __ATOMIC_RELEASE);
    mw__gc_warn("thread %d exited while registered, without the thread-exit hook (a raw exit "
                "system call?): it is forgotten",
                t->tid);
}

static const char *probe_why(enum probe p)
{
    switch (p) {
    case PROBE_BLOCKED:
        return "blocks the signal";
    case PROBE_PENDING:
        return "has the signal pending but does not run (a busy machine, or a debugger?)";
    case PROBE_LOST:
        return "took the signal without running the handler (sigwait, signalfd?): sent again";
    case PROBE_UNKNOWN:
        return "cannot be inspected (no /proc)";
    default:
        return "has not answered yet";
    }
}

/* Says which threads the collection waits for, and why (a few at most). */
static void report_waiting(uint32_t w, double secs)
{
    struct mw__gc_thread *t, *self = mw__gc_self;
    int shown = 0;

    for (t = mw__gc.threads; t && shown < 4; t = t->next) {
        if (t == self || __atomic_load_n(&t->ack, __ATOMIC_ACQUIRE) == w)
            continue;
        mw__gc_warn("waiting %.1f s for thread %d to stop for the collection: it %s (signal %d, "
                    "MEMWALK_GC_SIGNAL)",
                    secs, t->tid, probe_why((enum probe)t->probed), mw__gc.opt.signal);
        shown++;
    }
}

/* Waits until every other registered thread acknowledged epoch w; looks at the late ones every
 * 50 ms, says after a second which and why, and gives up (fatal) past the stop timeout on a
 * thread that keeps the signal blocked or cannot be inspected. */
static void wait_for_stop(uint32_t w)
{
    struct mw__gc_thread *t, *self = mw__gc_self;
    uint64_t t0 = mw__gc_now_ns(), next_probe = t0 + 50000000u, next_report = t0 + 1000000000u;
    uint64_t limit = mw__gc.opt.stop_timeout * 1000000000u;
    pid_t pid = getpid();

    for (;;) {
        uint32_t seen = __atomic_load_n(&mw__gc.acked, __ATOMIC_ACQUIRE);
        struct timespec rel = {0, 10000000}; /* 10 ms */
        struct mw__gc_thread *stuck = NULL;
        int late = 0;
        uint64_t now;

        for (t = mw__gc.threads; t; t = t->next)
            if (t != self && __atomic_load_n(&t->ack, __ATOMIC_ACQUIRE) != w)
                late++;
        if (!late)
            return;
        futex_wait(&mw__gc.acked, seen, &rel);
        now = mw__gc_now_ns();
        if (now < next_probe)
            continue;
        next_probe = now + 50000000u;
        for (t = mw__gc.threads; t; t = t->next) {
            if (t == self || __atomic_load_n(&t->ack, __ATOMIC_ACQUIRE) == w)
                continue;
            t->probed = probe(t);
            if (t->probed == PROBE_GONE)
                forget_gone(t, w);
            else if (t->probed == PROBE_LOST)
                syscall(SYS_tgkill, pid, t->tid, mw__gc.opt.signal);
            else if ((t->probed == PROBE_BLOCKED || t->probed == PROBE_UNKNOWN) && !stuck)
                stuck = t;
        }
        if (stuck && now - t0 >= limit)
            mw__gc_fatal("thread %d %s: the collector cannot stop it, and gave up after %.0f s "
                         "(MEMWALK_GC_STOP_TIMEOUT); a registered thread must keep signal %d "
                         "(MEMWALK_GC_SIGNAL) unblocked: block signals with "
                         "mw_gc_pthread_sigmask(), or unregister the thread while it keeps the "
                         "signal blocked",
                         stuck->tid, probe_why((enum probe)stuck->probed), (double)(now - t0) / 1e9,
                         mw__gc.opt.signal);
        if (now >= next_report) {
            report_waiting(w, (double)(now - t0) / 1e9);
            next_report = now + 5000000000u;
        }
    }
}

void mw__gc_stop_world(void)
{
    struct mw__gc_thread *t, *self = mw__gc_self;
    struct sigaction cur;
    pid_t pid = getpid();
    uint32_t w;

    mw__gc_markers_prepare();
    if (mw__gc.nthreads <= 1)
        return;
    /* A program that took the signal over would get it instead of the collector's handler. */
    if (sigaction(mw__gc.opt.signal, NULL, &cur) == 0 &&
        (!(cur.sa_flags & SA_SIGINFO) || cur.sa_sigaction != stop_handler))
        mw__gc_fatal("the program replaced the handler of signal %d (MEMWALK_GC_SIGNAL), which "
                     "the collector needs to stop its threads; pick a signal the program leaves "
                     "alone",
                     mw__gc.opt.signal);
    w = __atomic_add_fetch(&mw__gc.world, 1, __ATOMIC_ACQ_REL); /* odd: stopped */
    for (t = mw__gc.threads; t; t = t->next) {
        if (t == self || __atomic_load_n(&t->ack, __ATOMIC_ACQUIRE) == w)
            continue;
        t->probed = PROBE_NONE;
        if (syscall(SYS_tgkill, pid, t->tid, mw__gc.opt.signal) != 0 && errno == ESRCH)
            forget_gone(t, w);
    }
    wait_for_stop(w);
}

void mw__gc_start_world(void)
{
    struct mw__gc_thread *t, *next;

    if (!(mw__gc.world & 1))
        return;
    __atomic_add_fetch(&mw__gc.world, 1, __ATOMIC_ACQ_REL);
    futex_wake((uint32_t *)&mw__gc.world, INT32_MAX);
    for (t = mw__gc.threads; t; t = next) {
        next = t->next;
        if (t->probed == PROBE_GONE) {
            thread_unlink(t);
            munmap(t, sizeof *t);
        }
    }
}

/* ---- the pthread wrappers ------------------------------------------------------------------- */

enum { REC_RUNNING = 1, REC_EXITED, REC_DETACHED };

/* The record of thread id (lock held), or NULL. */
static struct mw__gc_exit_rec *rec_find(pthread_t id, int state)
{
    size_t i;

    for (i = 0; i < mw__gc.exits.len; i++) {
        struct mw__gc_exit_rec *r = &MW__GC_VEC_AT(&mw__gc.exits, struct mw__gc_exit_rec, i);
        if (pthread_equal(r->id, id) && (!state || r->state == state))
            return r;
    }
    return NULL;
}

static void rec_drop(struct mw__gc_exit_rec *r)
{
    *r = MW__GC_VEC_AT(&mw__gc.exits, struct mw__gc_exit_rec, mw__gc.exits.len - 1);
    mw__gc.exits.len--;
}

/* The calling thread, started by mw_gc_pthread_create, ends with result: keep it for the
 * joiner. */
static void thread_finish(void *result)
{
    struct mw__gc_exit_rec *r;

    mw__gc_lock();
    r = rec_find(pthread_self(), REC_RUNNING);
    if (!r)
        r = rec_find(pthread_self(), REC_DETACHED);
    if (r && r->state == REC_DETACHED) {
        rec_drop(r);
    } else if (r) {
        r->result = result;
        r->state = REC_EXITED;
    }
    mw__gc_unlock();
}

/* The hand-over between mw_gc_pthread_create and the thread it starts, on the creator's stack. */
struct start {
    void *(*fn)(void *);
    void *arg;
    int detached;
    int err;
    uint32_t state; /* 0 starting, 1 running, 2 failed (err says why) */
};

static void *start_thread(void *p)
{
    struct start *s = p;
    void *(*fn)(void *) = s->fn;
    void *arg, *result;
    int err = mw_gc_register_thread();

    if (!err && !s->detached) {
        mw__gc_lock();
        if (mw__gc_vec_reserve(&mw__gc.exits, sizeof(struct mw__gc_exit_rec),
                               mw__gc.exits.len + 1) < 0) {
            err = -ENOMEM;
        } else {
            struct mw__gc_exit_rec *r =
                &MW__GC_VEC_AT(&mw__gc.exits, struct mw__gc_exit_rec, mw__gc.exits.len++);
            r->id = pthread_self();
            r->result = NULL;
            r->state = REC_RUNNING;
        }
        mw__gc_unlock();
    }
    /* Read once this stack is a root: from now on arg is safe here. */
    arg = s->arg;
    __asm__ volatile("" : : "r"(arg) : "memory");
    s->err = err;
    __atomic_store_n(&s->state, err ? 2 : 1, __ATOMIC_RELEASE);
    futex_wake(&s->state, 1);
    if (err) {
        if (mw__gc_self)
            mw_gc_unregister_thread();
        return NULL;
    }
    result = fn(arg);
    thread_finish(result);
    return result;
}

/* Adds or removes [lo, hi) as a user root. Lock held. */
static void handover_root(uintptr_t lo, uintptr_t hi, int add)
{
    struct mw__gc_vec *v = &mw__gc.roots;
    size_t i;

    if (add) {
        if (mw__gc_vec_reserve(v, sizeof(struct mw__gc_mse), v->len + 1) < 0)
            mw__gc_fatal("out of memory for the root table");
        MW__GC_VEC_AT(v, struct mw__gc_mse, v->len).lo = lo;
        MW__GC_VEC_AT(v, struct mw__gc_mse, v->len).hi = hi;
        v->len++;
        return;
    }
    for (i = v->len; i-- > 0;)
        if (MW__GC_VEC_AT(v, struct mw__gc_mse, i).lo == lo &&
            MW__GC_VEC_AT(v, struct mw__gc_mse, i).hi == hi) {
            MW__GC_VEC_AT(v, struct mw__gc_mse, i) =
                MW__GC_VEC_AT(v, struct mw__gc_mse, v->len - 1);
            v->len--;
            return;
        }
}

int mw_gc_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                         void *(*start_routine)(void *), void *arg)
{
    struct start s = {start_routine, arg, 0, 0, 0};
    int r, state = PTHREAD_CREATE_JOINABLE, rooted = 0;

    mw__gc_init();
    /* The first thread to use the collector registers itself, as with a first allocation. */
    if (!mw__gc_self && !__atomic_load_n(&mw__gc.ever_attached, __ATOMIC_ACQUIRE))
        mw__gc_me();
    if (attr && pthread_attr_getdetachstate(attr, &state) == 0)
        s.detached = state == PTHREAD_CREATE_DETACHED;
    if (!mw__gc_self) {
        /* An unregistered creator's stack is no root: arg is one until the thread holds it. */
        mw__gc_lock();
        handover_root((uintptr_t)&s.arg, (uintptr_t)(&s.arg + 1), 1);
        mw__gc_unlock();
        rooted = 1;
    }
    r = pthread_create(thread, attr, start_thread, &s);
    if (r == 0) {
        uint32_t st;
        while ((st = __atomic_load_n(&s.state, __ATOMIC_ACQUIRE)) == 0)
            futex_wait(&s.state, 0, NULL);
        if (st == 2) {
            if (!s.detached)
                pthread_join(*thread, NULL);
            r = -s.err;
        }
    }
    if (rooted) {
        mw__gc_lock();
        handover_root((uintptr_t)&s.arg, (uintptr_t)(&s.arg + 1), 0);
        mw__gc_unlock();
    }
    return r;
}

int mw_gc_pthread_join(pthread_t thread, void **retval)
{
    int r = pthread_join(thread, retval);

    if (r == 0 && __atomic_load_n(&mw__gc.exits.len, __ATOMIC_RELAXED)) {
        struct mw__gc_exit_rec *rec;
        mw__gc_lock();
        /* A record still RUNNING: the thread ended by pthread_exit or cancellation. */
        rec = rec_find(thread, REC_EXITED);
        if (!rec)
            rec = rec_find(thread, REC_RUNNING);
        if (rec)
            rec_drop(rec);
        mw__gc_unlock();
    }
    return r;
}

int mw_gc_pthread_detach(pthread_t thread)
{
    int r = pthread_detach(thread);

    if (r == 0 && __atomic_load_n(&mw__gc.exits.len, __ATOMIC_RELAXED)) {
        struct mw__gc_exit_rec *rec;
        mw__gc_lock();
        rec = rec_find(thread, REC_EXITED);
        if (rec)
            rec_drop(rec);
        else if ((rec = rec_find(thread, REC_RUNNING)) != NULL)
            rec->state = REC_DETACHED;
        mw__gc_unlock();
    }
    return r;
}

void mw_gc_pthread_exit(void *retval)
{
    if (__atomic_load_n(&mw__gc.exits.len, __ATOMIC_RELAXED))
        thread_finish(retval);
    pthread_exit(retval);
}

int mw_gc_pthread_cancel(pthread_t thread)
{
    return pthread_cancel(thread);
}

int mw_gc_pthread_sigmask(int how, const sigset_t *set, sigset_t *oldset)
{
    sigset_t fixed;

    mw__gc_init();
    if (set && (how == SIG_BLOCK || how == SIG_SETMASK)) {
        fixed = *set;
        sigdelset(&fixed, mw__gc.opt.signal);
        set = &fixed;
    }
    return pthread_sigmask(how, set, oldset);
}
