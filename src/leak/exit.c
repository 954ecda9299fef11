/* How a traced process ends: exit() (an on_exit handler), _exit()/_Exit(), a fatal signal
 * (signals.c). Each runs the report once: close the gate, stop the other threads, free the
 * batched frees, release libc's buffers, check, write.
 *
 * Nothing here may wait on a lock another thread can hold while it is stopped: the loaded
 * objects are listed before the world stops (a stopped thread may hold the loader's lock), the
 * batched frees only update the tables (the allocator may be in any state in a stopped thread),
 * and threads that could not be stopped (every signal blocked) are held by the gate at their
 * next hook. */
#include "leak/leak.h"
#include "leak/profile.h"

#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <unistd.h>

static int finishing; /* 0, 1 while the report runs, 2 once it is written */
static void (*libc_freeres)(void);
static void (*cxx_freeres)(void);
uint32_t mw__exit_flags;

static pid_t reporter; /* the thread that runs the report */

/* Once per process, and only in the process the tracer works for (not a vfork child). Another
 * thread that ends the process (exit, _exit, a fatal signal) while the report runs waits for it:
 * the reporting thread ends the process when it is done. */
static int claim(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    int expected = 0;

    if (getpid() != mw__leak_pid)
        return 0;
    if (__atomic_compare_exchange_n(&finishing, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        if (__atomic_load_n(&mw__leak_state, __ATOMIC_ACQUIRE) != MW__ON) {
            __atomic_store_n(&finishing, 2, __ATOMIC_RELEASE); /* nothing to report */
            return 0;
        }
        __atomic_store_n(&reporter, tid, __ATOMIC_RELEASE);
        return 1;
    }
    if (expected == 1 && __atomic_load_n(&reporter, __ATOMIC_ACQUIRE) != tid)
        mw__world_park_now(); /* the report is running in another thread */
    return 0;
}

/* The check maps memory proportional to the live blocks: a program that lowered its address
 * space limit would leave it none. The process is ending, so the soft limit goes up to the
 * hard one (the program cannot see it any more). */
static void room_for_the_check(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_AS, &rl);
    }
}

int mw__exit_report(int how, int code, uintptr_t self_sp, const uintptr_t *regs, unsigned nregs,
                    const siginfo_t *si, const uintptr_t *fault, uint32_t fault_depth)
{
    static mw__thread_regs_t threads[1024];
    struct mw__leak_thread *self = mw__leak_me();
    struct mw__check_in in;
    struct mw__check_out res;
    size_t nthreads = 0, i, unstopped = 0;
    int main_gone = 0;

    if (!claim())
        return -1;
    if (!self->inited)
        mw__leak_thread_init(self);
    room_for_the_check();
    /* The loaded objects, while no thread is stopped inside the loader. */
    if (mw__wire_modules() < 0) {
        mw__leak_log("out of memory for the leak check: no report");
        __atomic_store_n(&finishing, 2, __ATOMIC_RELEASE);
        return -1;
    }
    if (how != MW__LEAK_END_SIGNAL && !cxx_freeres) {
        self->busy++;
        cxx_freeres = (void (*)(void))dlsym(RTLD_DEFAULT, "_ZN9__gnu_cxx9__freeresEv");
        self->busy--;
    }
    /* From here on no other thread enters a hook; those inside one leave first. */
    mw__world_prepare(threads, sizeof threads / sizeof threads[0]);
    mw__gate_close(self, MW__GATE_EXIT, 0);
    self->busy++;
    /* Threads that never allocated leave mw__leak_mt unset: ask libc too. */
    if (mw__leak_mt || !__libc_single_threaded)
        nthreads = mw__world_stop(threads, sizeof threads / sizeof threads[0], &main_gone);
    for (i = 0; i < nthreads; i++)
        unstopped += !threads[i].stopped;
    /* Batched frees of every thread count now, without the allocator. */
    mw__leak_flush_all(self, 0);
    self->busy--;
    /* memcheck releases libc's buffers at a normal exit (not on a fatal signal): the frees
     * count, so tracking stays on for this thread while it runs. */
    if (how != MW__LEAK_END_SIGNAL && !(mw__exit_flags & MW__LEAK_RES_SELF_KILL)) {
        if (cxx_freeres)
            cxx_freeres();
        if (libc_freeres)
            libc_freeres();
    }
    self->busy++;
    mw__leak_flush(self, self, 0); /* the frees freeres made */
    __atomic_store_n(&mw__leak_state, MW__DONE, __ATOMIC_RELEASE);
    if (main_gone)
        mw__exit_flags |= MW__LEAK_RES_MAIN_GONE;
    in.self_sp = self_sp;
    in.self_regs = regs;
    in.self_nregs = nregs;
    in.threads = threads;
    in.nthreads = nthreads;
    in.main_gone = main_gone;
    if (mw__prof_on) /* `memwalk heap`: the profile instead of the leak check */
        memset(&res, 0, sizeof res);
    else if (mw__check_run(&in, &res) < 0) {
        mw__leak_log("out of memory for the leak check: no report");
        __atomic_store_n(&finishing, 2, __ATOMIC_RELEASE);
        return 0;
    }
    mw__prof_write();
    mw__wire_result(how, code, si, fault, fault_depth, &res, unstopped);
    __atomic_store_n(&finishing, 2, __ATOMIC_RELEASE);
    return 0;
}

/* _exit/_Exit: the live stack starts at this frame's locals, as a deferred signal's does
 * (signals.c): the program's callee-saved registers were saved by the prologues between them
 * and the exported function's caller. */
__attribute__((noinline)) static void exit_now_report(int status)
{
    uintptr_t regs[MW__SCAN_NREGS] = {0};

    __builtin_unwind_init();
    MW__SCAN_SPILL(regs);
    mw__exit_report(MW__LEAK_END_EXIT_NOW, status, (uintptr_t)regs, regs, MW__SCAN_NREGS, NULL,
                    NULL, 0);
}

void mw__exit_now(int status)
{
    if (mw__leak_state == MW__OFF)
        mw__leak_start();
    exit_now_report(status);
    if (mw__real.exit_now)
        mw__real.exit_now(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

/* exit() itself, found at start: its frame ends the frames the exit handler looks through. */
static uintptr_t exit_lo, exit_hi;

/* The exit handler: registered before the loader's own, it runs after every destructor.
 * memcheck scans from the stack pointer of the final exit, and ignores what was never written:
 * the frames of exit() and of glibc's handler loop count with the registers they saved (the
 * caller's values: a pointer kept in a callee-saved register is a root), not with the rest of
 * their words, which are left over from the functions that ran there before. So the live stack
 * starts at exit()'s caller, and the registers saved on the way are added as roots. */
static void at_exit(int status, void *arg)
{
    uintptr_t *fp = __builtin_frame_address(0);
    uintptr_t regs[MW__SCAN_NREGS + 6 * 4] = {0}, ip = fp[1], sp = (uintptr_t)(fp + 2), bp = fp[0];
    uintptr_t start = sp, slots[6];
    unsigned nregs = MW__SCAN_NREGS, frame, k, n;

    (void)arg;
    __builtin_unwind_init();
    MW__SCAN_SPILL(regs);
    for (frame = 0; frame < 4 && exit_hi; frame++) {
        int in_exit = ip - 1 >= exit_lo && ip - 1 < exit_hi;
        if (mw__unwind_step_saves(&ip, &sp, &bp, 1, slots, 6, &n) < 0)
            break;
        for (k = 0; k < n; k++)
            regs[nregs++] = *(const uintptr_t *)slots[k];
        if (in_exit) {
            start = sp; /* exit()'s caller's frame: live */
            break;
        }
    }
    mw__exit_report(MW__LEAK_END_EXIT, status, start, regs, nregs, NULL, NULL, 0);
}

void mw__exit_install(void)
{
    struct mw__leak_thread *self = mw__leak_me();

    self->busy++;
    libc_freeres = (void (*)(void))dlsym(RTLD_DEFAULT, "__libc_freeres");
    {
        Dl_info info;
        const ElfW(Sym) *sym = NULL;
        if (dladdr1((void *)&exit, &info, (void **)&sym, RTLD_DL_SYMENT) && sym) {
            exit_lo = (uintptr_t)info.dli_fbase + sym->st_value;
            exit_hi = exit_lo + sym->st_size;
        }
    }
    on_exit(at_exit, NULL);
    self->busy--;
}
