/* Threads as Boehm GC users expect them: the stop signal whatever mask a thread has or inherits,
 * mw_gc_pthread_sigmask, a collection that never waits forever, and the pthread wrappers (the
 * thread's argument and return value stay alive, the first user registers, cancellation). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gc/gc_internal.h"

#include "gc_test.h"

static pthread_barrier_t ready, done;
static volatile int finalized;

static int blocked(int sig)
{
    sigset_t cur;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    return sigismember(&cur, sig);
}

/* Holds an object only on its stack while the main thread collects. */
static void *hold_during_collection(void)
{
    long *p = gc_test_unhide(gc_test_tracked(&finalized));

    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&done);
    __asm__ volatile("" : : "r"(p) : "memory");
    return (void *)(intptr_t)(p[0] == 1234);
}

static void *full_mask_then_register(void *arg)
{
    sigset_t all;
    void *ok;

    (void)arg;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
    cr_assert_eq(mw_gc_register_thread(), 0);
    ok = hold_during_collection();
    mw_gc_unregister_thread();
    return ok;
}

/* The case: this used to make the collector wait forever. */
Test(gc_pthread, thread_with_every_signal_blocked_is_stopped, .timeout = 20)
{
    pthread_t t;
    void *ok;

    mw_gc_malloc(16);
    pthread_barrier_init(&ready, NULL, 2);
    pthread_barrier_init(&done, NULL, 2);
    pthread_create(&t, NULL, full_mask_then_register, NULL);
    pthread_barrier_wait(&ready);
    gc_test_collect();
    cr_assert_eq(finalized, 0, "the object held by the stopped thread was collected");
    pthread_barrier_wait(&done);
    pthread_join(t, &ok);
    cr_assert(ok);
}

static void *inherited_mask(void *arg)
{
    (void)arg;
    /* Registered from its first instruction: the stop signal in, the rest as inherited. */
    cr_assert_not(blocked(SIGPWR));
    cr_assert(blocked(SIGUSR1));
    return hold_during_collection();
}

Test(gc_pthread, thread_started_with_every_signal_blocked_is_registered_and_stopped, .timeout = 20)
{
    sigset_t all, old;
    pthread_t t;
    void *ok;

    mw_gc_malloc(16);
    pthread_barrier_init(&ready, NULL, 2);
    pthread_barrier_init(&done, NULL, 2);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    cr_assert_eq(mw_gc_pthread_create(&t, NULL, inherited_mask, NULL), 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_barrier_wait(&ready);
    cr_assert_eq(mw__gc.nthreads, 2);
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    pthread_barrier_wait(&done);
    cr_assert_eq(mw_gc_pthread_join(t, &ok), 0);
    cr_assert(ok);
}

Test(gc_pthread, sigmask_never_blocks_the_stop_signal)
{
    sigset_t all, one, old;

    sigfillset(&all);
    cr_assert_eq(mw_gc_pthread_sigmask(SIG_BLOCK, &all, &old), 0);
    cr_assert_not(blocked(SIGPWR));
    cr_assert(blocked(SIGUSR1));
    cr_assert(blocked(SIGINT));
    cr_assert_eq(mw_gc_pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
    cr_assert_not(blocked(SIGUSR1));
    cr_assert_eq(mw_gc_pthread_sigmask(SIG_SETMASK, &all, NULL), 0);
    cr_assert_not(blocked(SIGPWR));
    /* SIG_UNBLOCK and queries pass through; the caller's set is left alone */
    cr_assert(sigismember(&all, SIGPWR));
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    cr_assert_eq(mw_gc_pthread_sigmask(SIG_UNBLOCK, &one, NULL), 0);
    cr_assert_not(blocked(SIGUSR1));
    cr_assert_eq(mw_gc_pthread_sigmask(12345, &one, NULL), EINVAL);
}

static void *blocks_for_two_seconds(void *arg)
{
    sigset_t set;
    struct timespec two = {2, 0};

    (void)arg;
    mw_gc_register_thread();
    sigemptyset(&set);
    sigaddset(&set, SIGPWR);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* behind the collector's back */
    pthread_barrier_wait(&ready);
    nanosleep(&two, NULL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL); /* the pending stop signal arrives now */
    mw_gc_unregister_thread();
    return NULL;
}

static int read_all(FILE *f, char *buf, size_t cap)
{
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    return (int)n;
}

Test(gc_pthread, thread_blocking_the_signal_is_waited_for_and_named, .timeout = 30)
{
    pthread_t t;
    char out[2048], want[160];
    struct timespec t0, t1;

    cr_redirect_stderr();
    mw_gc_malloc(16);
    pthread_barrier_init(&ready, NULL, 2);
    pthread_create(&t, NULL, blocks_for_two_seconds, NULL);
    pthread_barrier_wait(&ready);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mw_gc_collect(); /* returns once the thread let the signal in */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(t, NULL);
    cr_assert_geq(t1.tv_sec - t0.tv_sec, 1);
    fflush(stderr);
    read_all(cr_get_redirected_stderr(), out, sizeof out);
    snprintf(want, sizeof want,
             "to stop for the collection: it blocks the signal (signal %d, "
             "MEMWALK_GC_SIGNAL)\n",
             SIGPWR);
    cr_assert(strstr(out, want), "stderr: %s", out);
    cr_assert(strstr(out, "memwalk gc: waiting "), "stderr: %s", out);
}

/* Runs fn in a child process (a fresh collector), its stderr captured into out. Returns the
 * wait status. */
static int in_child(void (*fn)(void), char *out, size_t cap)
{
    int pfd[2], status;
    pid_t pid;
    FILE *f;

    cr_assert_eq(pipe(pfd), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(pfd[1], 2);
        close(pfd[0]);
        fn();
        _exit(0);
    }
    close(pfd[1]);
    f = fdopen(pfd[0], "r");
    read_all(f, out, cap);
    fclose(f);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return status;
}

static void *blocks_forever(void *arg)
{
    sigset_t set;

    (void)arg;
    mw_gc_register_thread();
    sigemptyset(&set);
    sigaddset(&set, SIGPWR);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_barrier_wait(&ready);
    for (;;)
        pause();
    return NULL;
}

static void collect_with_a_thread_that_blocks_forever(void)
{
    pthread_t t;

    setenv("MEMWALK_GC_STOP_TIMEOUT", "1", 1);
    mw_gc_malloc(16);
    pthread_barrier_init(&ready, NULL, 2);
    pthread_create(&t, NULL, blocks_forever, NULL);
    pthread_barrier_wait(&ready);
    mw_gc_collect(); /* gives up: abort */
}

Test(gc_pthread, thread_keeping_the_signal_blocked_fails_loudly_instead_of_hanging, .timeout = 30)
{
    char out[4096];
    int status = in_child(collect_with_a_thread_that_blocks_forever, out, sizeof out);

    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              out);
    cr_assert(strstr(out, "memwalk gc: fatal: thread "), "stderr: %s", out);
    cr_assert(strstr(out, " blocks the signal: the collector cannot stop it, and gave up after "),
              "stderr: %s", out);
    cr_assert(strstr(out, "mw_gc_pthread_sigmask()"), "stderr: %s", out);
}

static void program_handler(int sig)
{
    (void)sig;
}

static void *parked(void *arg)
{
    (void)arg;
    mw_gc_register_thread();
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&done);
    return NULL;
}

static void collect_after_the_program_took_the_signal(void)
{
    pthread_t t;

    mw_gc_malloc(16);
    pthread_barrier_init(&ready, NULL, 2);
    pthread_barrier_init(&done, NULL, 2);
    pthread_create(&t, NULL, parked, NULL);
    pthread_barrier_wait(&ready);
    signal(SIGPWR, program_handler);
    mw_gc_collect(); /* its threads cannot be stopped with that signal: abort */
}

Test(gc_pthread, program_taking_the_signal_over_is_told, .timeout = 30)
{
    char out[4096], want[160];
    int status = in_child(collect_after_the_program_took_the_signal, out, sizeof out);

    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              out);
    snprintf(want, sizeof want,
             "memwalk gc: fatal: the program replaced the handler of signal %d "
             "(MEMWALK_GC_SIGNAL)",
             SIGPWR);
    cr_assert(strstr(out, want), "stderr: %s", out);
}

static volatile int program_got;

static void count_handler(int sig)
{
    (void)sig;
    program_got++;
}

static void *never_runs(void *arg)
{
    return arg;
}

Test(gc_pthread, program_handler_is_left_alone_and_a_second_thread_is_refused)
{
    struct sigaction cur;
    pthread_t t;

    cr_redirect_stderr();
    signal(SIGPWR, count_handler);
    mw_gc_malloc(16); /* the first thread: nothing to stop, the signal stays the program's */
    cr_assert_eq(sigaction(SIGPWR, NULL, &cur), 0);
    cr_assert_eq(cur.sa_handler, count_handler);
    raise(SIGPWR);
    cr_assert_eq(program_got, 1);
    /* A second thread would need the signal: refused, said why, start_routine never runs */
    cr_assert_eq(mw_gc_pthread_create(&t, NULL, never_runs, (void *)1), EBUSY);
    cr_assert_eq(mw__gc.nthreads, 1);
}

static volatile int value_finalized;

static void *returns_an_object(void *arg)
{
    long *p = mw_gc_malloc(4096);

    (void)arg;
    p[0] = 4242;
    p[511] = 99;
    mw_gc_set_finalizer(p, gc_test_count_fin, (void *)&value_finalized);
    pthread_barrier_wait(&ready);
    return p; /* its only reference from now on */
}

static void *exits_with_an_object(void *arg)
{
    mw_gc_pthread_exit(returns_an_object(arg));
}

static void wait_until_gone(pid_t tid)
{
    char path[64];

    snprintf(path, sizeof path, "/proc/self/task/%d", (int)tid);
    while (access(path, F_OK) == 0)
        usleep(1000);
}

static volatile pid_t child_tid;

static void *note_tid(void *(*fn)(void *))
{
    child_tid = (pid_t)gettid();
    return fn(NULL);
}

static void *ret_thread(void *arg)
{
    (void)arg;
    return note_tid(returns_an_object);
}

static void *exit_thread(void *arg)
{
    (void)arg;
    return note_tid(exits_with_an_object);
}

static void check_value_kept_until_join(void *(*fn)(void *))
{
    pthread_t t;
    long *p;

    mw_gc_malloc(16);
    pthread_barrier_init(&ready, NULL, 2);
    cr_assert_eq(mw_gc_pthread_create(&t, NULL, fn, NULL), 0);
    pthread_barrier_wait(&ready);
    wait_until_gone(child_tid); /* exited, not joined: only the collector holds the value */
    for (int i = 0; i < 3; i++)
        gc_test_collect();
    cr_assert_eq(value_finalized, 0, "a thread's return value was collected before the join");
    cr_assert_eq(mw_gc_pthread_join(t, (void **)&p), 0);
    cr_assert_eq(p[0], 4242);
    cr_assert_eq(p[511], 99);
    cr_assert_eq(mw__gc.exits.len, 0, "the join did not drop the record");
}

Test(gc_pthread, returned_value_lives_until_joined, .timeout = 30)
{
    check_value_kept_until_join(ret_thread);
}

Test(gc_pthread, pthread_exit_value_lives_until_joined, .timeout = 30)
{
    check_value_kept_until_join(exit_thread);
}

static void *quick(void *arg)
{
    return arg;
}

Test(gc_pthread, detached_threads_leave_no_record, .timeout = 30)
{
    pthread_attr_t attr;
    pthread_t t[3];

    mw_gc_malloc(16);
    pthread_barrier_init(&ready, NULL, 2);
    /* detached later, while running */
    cr_assert_eq(mw_gc_pthread_create(&t[0], NULL, ret_thread, NULL), 0);
    cr_assert_eq(mw__gc.exits.len, 1);
    cr_assert_eq(mw_gc_pthread_detach(t[0]), 0);
    pthread_barrier_wait(&ready);
    wait_until_gone(child_tid);
    /* detached after it ended */
    cr_assert_eq(mw_gc_pthread_create(&t[1], NULL, ret_thread, NULL), 0);
    pthread_barrier_wait(&ready);
    wait_until_gone(child_tid);
    cr_assert_eq(mw_gc_pthread_detach(t[1]), 0);
    /* detached from the start */
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    cr_assert_eq(mw_gc_pthread_create(&t[2], &attr, quick, NULL), 0);
    cr_assert_eq(mw__gc.exits.len, 0);
}

static void *allocates(void *arg)
{
    long sum = 0;

    for (long i = 0; i < 100000; i++) {
        long *p = mw_gc_malloc(32);
        p[0] = i;
        sum += p[0];
    }
    return (void *)(intptr_t)(sum == (long)arg);
}

Test(gc_pthread, first_user_may_start_threads_before_allocating)
{
    pthread_t t;
    void *ok;

    /* The main thread's first collector call is mw_gc_pthread_create: it registers too. */
    cr_assert_eq(mw_gc_pthread_create(&t, NULL, allocates, (void *)(100000L * 99999 / 2)), 0);
    cr_assert_eq(mw_gc_pthread_join(t, &ok), 0);
    cr_assert(ok);
    cr_assert_not_null(mw_gc_malloc(16)); /* registered, not aborted */
}

Test(gc_pthread, create_errors_are_returned)
{
    pthread_attr_t attr;
    pthread_t t;
    int r;

    mw_gc_malloc(16);
    pthread_attr_init(&attr);
    cr_assert_eq(pthread_attr_setstacksize(&attr, (size_t)1 << 46), 0); /* no such stack */
    r = mw_gc_pthread_create(&t, &attr, quick, NULL);
    cr_assert(r == EAGAIN || r == ENOMEM, "mw_gc_pthread_create gave %d", r);
    cr_assert_eq(mw__gc.nthreads, 1);
    cr_assert_eq(mw__gc.exits.len, 0);
    cr_assert_eq(mw__gc.roots.len, 0);
}

static void *allocates_until_cancelled(void *arg)
{
    (void)arg;
    for (;;) {
        for (int i = 0; i < 1000; i++)
            mw_gc_malloc(64);
        mw_gc_collect();
        pthread_testcancel();
    }
    return NULL;
}

Test(gc_pthread, cancelled_thread_leaves_the_collector_usable, .timeout = 60)
{
    pthread_t t[2];
    void *r;

    mw_gc_malloc(16);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(mw_gc_pthread_create(&t[i], NULL, allocates_until_cancelled, NULL), 0);
    usleep(200000);
    cr_assert_eq(mw_gc_pthread_cancel(t[0]), 0);
    cr_assert_eq(mw_gc_pthread_join(t[0], &r), 0);
    cr_assert_eq(r, PTHREAD_CANCELED);
    gc_test_collect(); /* neither the lock nor a stopped world was left behind */
    cr_assert_eq(mw_gc_pthread_cancel(t[1]), 0);
    cr_assert_eq(mw_gc_pthread_join(t[1], &r), 0);
    gc_test_collect();
    cr_assert_eq(mw__gc.nthreads, 1);
    cr_assert_eq(mw__gc.exits.len, 0);
}

static void *exits_behind_the_collectors_back(void *arg)
{
    (void)arg;
    mw_gc_register_thread();
    child_tid = (pid_t)gettid();
    syscall(SYS_exit, 0); /* no thread-exit hook runs: still registered */
    return NULL;
}

Test(gc_pthread, thread_gone_without_unregistering_is_forgotten, .timeout = 30)
{
    pthread_t t;
    char out[2048], want[160];

    cr_redirect_stderr();
    mw_gc_malloc(16);
    child_tid = 0;
    pthread_create(&t, NULL, exits_behind_the_collectors_back, NULL);
    while (!child_tid)
        sched_yield();
    wait_until_gone(child_tid);
    cr_assert_eq(mw__gc.nthreads, 2);
    gc_test_collect(); /* neither waits for it nor reads its stack */
    cr_assert_eq(mw__gc.nthreads, 1);
    gc_test_collect();
    fflush(stderr);
    read_all(cr_get_redirected_stderr(), out, sizeof out);
    snprintf(want, sizeof want, "memwalk gc: thread %d exited while registered", (int)child_tid);
    cr_assert(strstr(out, want), "stderr: %s", out);
}
