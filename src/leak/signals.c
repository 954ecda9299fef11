/* Fatal signals: the program is killed by a signal it does not handle; memcheck reports first.
 *
 * A synchronous fault (SIGSEGV, SIGBUS...) is reported from its handler, then the instruction
 * faults again with the default action. An asynchronous signal (SIGTERM, SIGALRM, SIGINT...)
 * that interrupts a hook is not handled there: the tables and the allocator may be half-updated.
 * The thread notes it and handles it on its way out of the hook, then dies of it. */
#include "leak/leak.h"

#include <dlfcn.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static const int fatal[] = {SIGSEGV, SIGBUS,  SIGFPE,  SIGILL,  SIGABRT, SIGTRAP,
                            SIGSYS,  SIGTERM, SIGINT,  SIGHUP,  SIGQUIT, SIGXCPU,
                            SIGXFSZ, SIGALRM, SIGUSR1, SIGUSR2, SIGPIPE, SIGVTALRM};

/* Dies of sig with its default action. */
__attribute__((noreturn)) static void die(int sig)
{
    struct sigaction dfl;
    sigset_t set;

    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    /* Ignored by a parent's choice we cannot undo: leave as the signal would. */
    mw__real.exit_now ? mw__real.exit_now(128 + sig) : _exit(128 + sig);
    __builtin_unreachable();
}

void mw__signals_deliver(struct mw__leak_thread *t)
{
    uintptr_t fault[MW__LEAK_MAX_CALLERS], regs[MW__SCAN_NREGS] = {0};
    uintptr_t *fp = __builtin_frame_address(0);
    unsigned depth, skip = 0, i;
    int sig = t->pending_sig;
    Dl_info info;

    t->pending = 0;
    /* The stack from the hook the signal interrupted: the tracer's own frames are dropped and
     * frame 0 names the hook (its entry), as memcheck shows the function that was running.
     * Outside the allocator and any handler, dladdr is safe here. */
    t->busy++;
    depth = mw__unwind(t, fp[1], (uintptr_t)(fp + 2), fp[0], fault, (unsigned)mw__leak_num_callers);
    while (skip + 1 < depth && mw__leak_own_code(fault[skip + 1] - 1))
        skip++;
    for (i = skip; i < depth; i++)
        fault[i - skip] = fault[i];
    depth -= skip;
    if (depth && dladdr((void *)(fault[0] - 1), &info) && info.dli_saddr)
        fault[0] = (uintptr_t)info.dli_saddr + 1;
    t->busy--;
    __builtin_unwind_init();
    MW__SCAN_SPILL(regs);
    /* The scan starts at this frame's locals, not at its caller's stack pointer: the prologues
     * of the hook's frames saved the program's callee-saved registers above the locals and
     * below that pointer, and one may hold the block the hook is about to return (a realloc
     * that moved it: "definitely lost" in 4 % of runs before). */
    mw__exit_report(MW__LEAK_END_SIGNAL, sig, (uintptr_t)regs, regs, MW__SCAN_NREGS, NULL, fault,
                    depth);
    die(sig);
}

static void on_fatal(int sig, siginfo_t *si, void *ucv)
{
    struct mw__leak_thread *self = mw__leak_me();
    int sync =
        (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP) &&
        si && si->si_code > 0;
    /* abort() in this process: glibc's allocator aborting on a corrupted heap inside a hook
     * never returns to it, so waiting for the hook to end would lose the report. The tables
     * are consistent whenever the real allocator runs (a block is listed before or after). */
    int aborting = sig == SIGABRT && si && si->si_code == SI_TKILL && si->si_pid == getpid();
    uintptr_t regs[NGREG], fault[MW__LEAK_MAX_CALLERS];
    unsigned nregs = 0, depth = 0;

    if (self->busy && !sync && !aborting) {
        /* Inside a hook: handled when the hook is done (mw__leave). */
        self->pending_sig = sig;
        __atomic_or_fetch(&self->pending, MW__PEND_SIGNAL, __ATOMIC_RELEASE);
        return;
    }
#if defined(__x86_64__)
    {
        ucontext_t *uc = ucv;
        uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
        uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        int r;
        if (self->busy && mw__leak_own_code(pc)) {
            mw__leak_log("internal fault in the tracer: no leak report");
        } else {
            for (r = 0; r < NGREG; r++)
                if (r != REG_RIP && r != REG_EFL && r != REG_CSGSFS && r != REG_ERR &&
                    r != REG_TRAPNO && r != REG_OLDMASK && r != REG_CR2)
                    regs[nregs++] = (uintptr_t)uc->uc_mcontext.gregs[r];
            /* The unwinder's rule cache may be mid-update in this thread: only unwind when it
             * was not inside a hook. */
            if (!self->busy) {
                self->busy++;
                if (!self->inited)
                    mw__leak_thread_init(self);
                depth = mw__unwind_from(self, pc, sp, (uintptr_t)uc->uc_mcontext.gregs[REG_RBP],
                                        fault, (unsigned)mw__leak_num_callers, self->stack_hi);
                self->busy--;
            }
            mw__exit_report(MW__LEAK_END_SIGNAL, sig, sp - 128, regs, nregs, si, fault, depth);
        }
    }
#else
    (void)ucv;
    (void)regs;
    (void)nregs;
    mw__exit_report(MW__LEAK_END_SIGNAL, sig, (uintptr_t)__builtin_frame_address(0), NULL, 0, si,
                    fault, depth);
#endif
    if (sync) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, NULL);
        return; /* the instruction faults again, now with the default action */
    }
    die(sig);
}

void mw__signals_install(void)
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
