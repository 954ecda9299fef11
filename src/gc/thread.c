/* Threads: registration, the lock, and stopping the registered threads with a signal while the
 * collector marks (each stopped thread parks in the handler, its registers saved by the kernel in
 * the signal frame on its own stack, which is scanned from the handler's frame up). */
#include "gc/gc_internal.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "scan/scan.h"

__thread struct mw__gc_thread *mw__gc_self __attribute__((tls_model("initial-exec")));

void mw__gc_lock(void)
{
    pthread_mutex_lock(&mw__gc.lock);
}

void mw__gc_unlock(void)
{
    pthread_mutex_unlock(&mw__gc.lock);
}

static int gettid_(void)
{
    return (int)syscall(SYS_gettid);
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

static void stop_handler(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    struct mw__gc_thread *t = mw__gc_self;
    uint32_t w = __atomic_load_n(&mw__gc.world, __ATOMIC_ACQUIRE);
    volatile uintptr_t here = 0;

    (void)sig;
    (void)si;
    (void)uc;
    if (t && (w & 1)) {
        /* The interrupted registers are in the signal frame, above this frame. */
        t->stop_sp = (uintptr_t)&here;
        sem_post(&mw__gc.ack);
        while (__atomic_load_n(&mw__gc.world, __ATOMIC_ACQUIRE) == w)
            syscall(SYS_futex, &mw__gc.world, FUTEX_WAIT_PRIVATE, w, NULL, NULL, 0);
    }
    errno = saved;
}

static int install_handler(void)
{
    struct sigaction sa;

    if (mw__gc.handler_installed)
        return 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = stop_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(mw__gc.opt.signal, &sa, NULL) < 0)
        return -errno;
    mw__gc.handler_installed = 1;
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

    /* Only the forking thread lives on in the child. */
    for (t = mw__gc.threads; t; t = next) {
        next = t->next;
        if (t != self) {
            thread_unlink(t);
            munmap(t, sizeof *t);
        }
    }
    if (self)
        self->tid = gettid_();
    pthread_mutex_init(&mw__gc.lock, NULL);
}

void mw__gc_threads_init(void)
{
    if (sem_init(&mw__gc.ack, 0, 0) < 0 || pthread_key_create(&mw__gc.key, key_destructor) != 0)
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
    if (mw__gc.nthreads >= 1 && (err = install_handler()) < 0) {
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

void mw__gc_stop_world(void)
{
    struct mw__gc_thread *t, *self = mw__gc_self;
    pid_t pid = getpid();
    int n = 0, warned = 0;

    if (mw__gc.nthreads <= 1)
        return;
    __atomic_add_fetch(&mw__gc.world, 1, __ATOMIC_ACQ_REL); /* odd: stopped */
    for (t = mw__gc.threads; t; t = t->next) {
        if (t == self)
            continue;
        t->stop_sp = 0;
        if (syscall(SYS_tgkill, pid, t->tid, mw__gc.opt.signal) == 0)
            n++;
    }
    while (n > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 5;
        if (sem_timedwait(&mw__gc.ack, &ts) == 0) {
            n--;
        } else if (errno == ETIMEDOUT) {
            /* Keeps waiting: stopping is the only safe way on. Say why it may hang. */
            if (!warned++)
                mw__gc_warn("%d registered thread(s) did not stop for the collection within 5 "
                            "s: is signal %d blocked in them (MEMWALK_GC_SIGNAL)?",
                            n, mw__gc.opt.signal);
        } else if (errno != EINTR) {
            mw__gc_fatal("waiting for threads to stop: %s", strerror(errno));
        }
    }
}

void mw__gc_start_world(void)
{
    if (mw__gc.nthreads <= 1 && !(mw__gc.world & 1))
        return;
    if (!(mw__gc.world & 1))
        return;
    __atomic_add_fetch(&mw__gc.world, 1, __ATOMIC_ACQ_REL);
    syscall(SYS_futex, &mw__gc.world, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}
