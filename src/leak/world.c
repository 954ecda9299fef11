/* Stopping the world at exit: every other thread is sent a signal whose handler records its
 * registers and stack pointer, then parks it until the process ends. A thread inside a hook
 * parks on its way out (so no table is caught half-updated); a thread that blocks the signal is
 * held by the gate at its next hook, and described from /proc/self/task/TID/syscall when it sits
 * in a system call. Also keeps the stacks of threads that have exited, which the scan must not
 * take for roots. */
#include "common/task.h"
#include "leak/leak.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define STOP_SIGNAL (SIGRTMAX - 3)

static mw__thread_regs_t *volatile slots;
static volatile size_t slots_max;
static size_t slots_used;
static int arrived;
static int park_word;

__attribute__((noreturn)) static void park_forever(void)
{
    for (;;)
        syscall(SYS_futex, &park_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static mw__thread_regs_t *take_slot(void)
{
    size_t i = __atomic_fetch_add(&slots_used, 1, __ATOMIC_ACQ_REL);

    return i < slots_max ? &slots[i] : NULL;
}

static void record(mw__thread_regs_t *t, const ucontext_t *uc, uintptr_t sp, const uintptr_t *regs,
                   unsigned nregs)
{
    unsigned r;

    t->tid = (pid_t)syscall(SYS_gettid);
    t->nregs = 0;
#if defined(__x86_64__)
    if (uc) {
        t->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        for (r = 0; r < NGREG && t->nregs < 18; r++)
            if (r != REG_RIP && r != REG_EFL && r != REG_CSGSFS && r != REG_ERR &&
                r != REG_TRAPNO && r != REG_OLDMASK && r != REG_CR2)
                t->regs[t->nregs++] = (uintptr_t)uc->uc_mcontext.gregs[r];
        t->stopped = 1;
        return;
    }
#else
    (void)uc;
#endif
    t->sp = sp;
    for (r = 0; r < nregs && r < 18; r++)
        t->regs[t->nregs++] = regs[r];
    t->stopped = 1;
}

static void stop_handler(int sig, siginfo_t *si, void *ucv)
{
    struct mw__leak_thread *me = mw__leak_peek();
    mw__thread_regs_t *t;

    (void)sig;
    (void)si;
    if (me && me->parked)
        return; /* held by the gate already */
    if (me && me->busy) {
        __atomic_or_fetch(&me->pending, MW__PEND_STOP, __ATOMIC_RELEASE);
        return;
    }
    if (me)
        me->parked = 1;
    t = take_slot();
    if (t)
        record(t, ucv, 0, NULL, 0);
    __atomic_add_fetch(&arrived, 1, __ATOMIC_RELEASE);
    park_forever();
}

void mw__world_park_now(void)
{
    struct mw__leak_thread *me = mw__leak_peek();
    mw__thread_regs_t *t;
    uintptr_t regs[MW__SCAN_NREGS] = {0};

    sigset_t all;

    /* A signal for the process must reach the thread that is reporting, not a parked one. */
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    if (me) {
        me->parked = 1;
        me->pending = 0;
    }
    __builtin_unwind_init();
    MW__SCAN_SPILL(regs);
    t = take_slot();
    if (t)
        record(t, NULL, (uintptr_t)__builtin_frame_address(0), regs, MW__SCAN_NREGS);
    __atomic_add_fetch(&arrived, 1, __ATOMIC_RELEASE);
    park_forever();
}

/* The stack pointer of a thread sitting in a system call, 0 otherwise. */
static uintptr_t syscall_sp(pid_t tid)
{
    uintptr_t sp;

    return mw__task_sp(0, tid, &sp) == MW__TASK_SYSCALL ? sp : 0;
}

static int known(const pid_t *tids, size_t n, pid_t tid)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (tids[i] == tid)
            return 1;
    return 0;
}

/* 1 when thread tid has exited but is still listed (a zombie: the main thread after
 * pthread_exit, until the process ends). */
static int zombie(pid_t tid)
{
    char buf[512], *p;

    if (mw__task_read(0, tid, "stat", buf, sizeof buf) <= 0)
        return 1;
    p = strrchr(buf, ')');
    return p && (p[2] == 'Z' || p[2] == 'X');
}

void mw__world_prepare(mw__thread_regs_t *out, size_t max)
{
    slots_used = 0;
    arrived = 0;
    slots = out;
    __atomic_store_n(&slots_max, max, __ATOMIC_RELEASE);
}

static int answered(const mw__thread_regs_t *out, size_t n, pid_t tid)
{
    size_t k;

    for (k = 0; k < n; k++)
        if (out[k].tid == tid)
            return 1;
    return 0;
}

struct signalling {
    pid_t *sent;
    size_t *nsent, max;
    pid_t self, pid;
};

/* Sends the stop signal to thread tid unless it is this one or was sent it already. */
static int signal_one(void *ctx, pid_t tid)
{
    struct signalling *sg = ctx;

    if (tid == sg->self || known(sg->sent, *sg->nsent, tid))
        return 0;
    if (*sg->nsent == sg->max) {
        mw__leak_limit(MW__LEAK_LIMIT_STOP, "too many threads to stop");
        return 0;
    }
    if (syscall(SYS_tgkill, sg->pid, tid, STOP_SIGNAL) == 0)
        sg->sent[(*sg->nsent)++] = tid;
    return 0;
}

size_t mw__world_stop(mw__thread_regs_t *out, size_t max, int *main_gone)
{
    static pid_t sent[4096];
    size_t nsent = 0, round, i, n;
    pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = stop_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(STOP_SIGNAL, &sa, NULL) < 0)
        return 0;
    /* Two rounds: a thread may start another while we are signalling. */
    for (round = 0; round < 2; round++) {
        struct signalling sg = {sent, &nsent, sizeof sent / sizeof sent[0], self, pid};
        if (mw__task_each(0, signal_one, &sg) < 0)
            break;
        /* Wait up to a second for everyone signalled so far. */
        for (i = 0; i < 1000 && (size_t)__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < nsent; i++) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    /* Threads that did not answer block the signal: those inside a hook are waited for (they
     * park on their way out, or stay out of the tables for good at the gate). */
    for (i = 0; i < 2000; i++) {
        size_t k, inside = 0;
        n = __atomic_load_n(&slots_used, __ATOMIC_ACQUIRE);
        for (k = 0; k < nsent; k++) {
            struct mw__leak_thread *t;
            if (answered(out, n < max ? n : max, sent[k]))
                continue;
            t = mw__threads_find(sent[k]);
            inside += t && __atomic_load_n(&t->busy, __ATOMIC_ACQUIRE) && !t->parked;
        }
        if (!inside)
            break;
        {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    n = __atomic_load_n(&slots_used, __ATOMIC_ACQUIRE);
    if (n > max) {
        mw__leak_limit(MW__LEAK_LIMIT_STOP, "too many threads to stop");
        n = max;
    }
    /* Late arrivals must not write past what we report. */
    __atomic_store_n(&slots_max, n, __ATOMIC_RELEASE);
    *main_gone = 0;
    for (i = 0; i < nsent; i++) {
        if (answered(out, n, sent[i]))
            continue;
        if (zombie(sent[i])) {
            *main_gone |= sent[i] == pid;
            continue;
        }
        if (n == max) {
            mw__leak_limit(MW__LEAK_LIMIT_STOP, "too many threads to stop");
            break;
        }
        out[n].tid = sent[i];
        out[n].stopped = 0;
        out[n].nregs = 0;
        out[n].sp = syscall_sp(sent[i]);
        n++;
    }
    if (self != pid && !known(sent, nsent, pid))
        *main_gone = 1; /* not even listed any more */
    return n;
}

/* ---- stacks of exited threads ---- */
#define MAX_DEAD 4096
static struct {
    uintptr_t lo, hi;
} dead[MAX_DEAD];
static size_t ndead;
static mw__lock_t dead_lock;

void mw__world_lock(void)
{
    mw__lock_always(&dead_lock);
}

void mw__world_unlock(void)
{
    mw__unlock_always(&dead_lock);
}

void mw__world_thread_exit(uintptr_t lo, uintptr_t hi)
{
    size_t i;

    mw__lock(&dead_lock);
    for (i = 0; i < ndead; i++)
        if (dead[i].lo == lo)
            break;
    if (i == ndead && ndead < MAX_DEAD)
        ndead++;
    else if (i == ndead)
        mw__leak_limit(MW__LEAK_LIMIT_DEAD, "too many exited threads' stacks to remember");
    if (i < ndead) {
        dead[i].lo = lo;
        dead[i].hi = hi;
    }
    mw__unlock(&dead_lock);
}

size_t mw__world_dead_stacks(uintptr_t *lo, uintptr_t *hi, size_t max)
{
    size_t i;

    for (i = 0; i < ndead && i < max; i++) {
        lo[i] = dead[i].lo;
        hi[i] = dead[i].hi;
    }
    return i;
}
