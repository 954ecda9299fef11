/* Threads: an unregistered thread is stopped with a message; registered threads allocate
 * concurrently and their stacks are roots while another thread collects. (Signal masks and the
 * pthread wrappers: test_pthread.c.) */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gc/gc_internal.h"

#include "gc_test.h"

static void *unregistered(void *arg)
{
    (void)arg;
    mw_gc_malloc(16); /* aborts: this thread never registered */
    return NULL;
}

Test(gc_threads, unregistered_thread_aborts_with_a_message, .signal = SIGABRT)
{
    pthread_t t;

    mw_gc_malloc(16); /* the main thread owns the collector */
    pthread_create(&t, NULL, unregistered, NULL);
    pthread_join(t, NULL);
}

struct cell {
    struct cell *next;
    long value;
};

#define PER_THREAD 200000

static void *builder(void *arg)
{
    long sum = 0, count = 0, base = (long)(intptr_t)arg * PER_THREAD;
    struct cell *head = NULL;

    cr_assert_eq(mw_gc_register_thread(), 0);
    for (long i = 0; i < PER_THREAD; i++) {
        struct cell *c = mw_gc_malloc(sizeof *c);
        c->value = base + i;
        c->next = head;
        head = c;
        mw_gc_malloc(48); /* garbage, to make collections happen */
        if (i % 50000 == 0)
            mw_gc_collect();
    }
    for (struct cell *c = head; c; c = c->next) {
        sum += c->value - base;
        count++;
    }
    cr_assert_eq(mw_gc_unregister_thread(), 0);
    return (void *)(intptr_t)(count == PER_THREAD &&
                              sum == (long)PER_THREAD * (PER_THREAD - 1) / 2);
}

Test(gc_threads, registered_threads_allocate_and_collect_concurrently, .timeout = 60)
{
    pthread_t t[4];
    mw_gc_stats_t st;
    void *ok;

    mw_gc_malloc(16);
    for (intptr_t i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, builder, (void *)i);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], &ok);
        cr_assert(ok, "thread %d lost list cells", i);
    }
    mw_gc_get_stats(&st);
    cr_assert_gt(st.collections, 4);
}

static pthread_barrier_t ready, done;
static volatile int finalized;

static void *holder(void *arg)
{
    long *p;

    (void)arg;
    mw_gc_register_thread();
    p = gc_test_unhide(gc_test_tracked(&finalized)); /* only on this thread's stack */
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&done); /* the main thread collects meanwhile */
    __asm__ volatile("" : : "r"(p) : "memory");
    return (void *)(intptr_t)(p[0] == 1234);
}

Test(gc_threads, stopped_thread_stack_is_a_root)
{
    pthread_t t;
    void *ok;

    mw_gc_malloc(16);
    pthread_barrier_init(&ready, NULL, 2);
    pthread_barrier_init(&done, NULL, 2);
    pthread_create(&t, NULL, holder, NULL);
    pthread_barrier_wait(&ready);
    gc_test_collect();
    cr_assert_eq(finalized, 0);
    pthread_barrier_wait(&done);
    pthread_join(t, &ok);
    cr_assert(ok);
}

Test(gc_threads, unregister_without_register_is_einval)
{
    cr_assert_eq(mw_gc_unregister_thread(), -EINVAL);
}

static void *register_twice(void *arg)
{
    (void)arg;
    mw_gc_register_thread();
    return (void *)(intptr_t)mw_gc_register_thread();
}

Test(gc_threads, second_registration_is_harmless)
{
    pthread_t t;
    void *r;

    mw_gc_malloc(16);
    pthread_create(&t, NULL, register_twice, NULL);
    pthread_join(t, &r);
    cr_assert_eq((intptr_t)r, 0);
}

static void *exits_registered(void *arg)
{
    (void)arg;
    mw_gc_register_thread();
    mw_gc_malloc(100);
    return NULL; /* no unregister: the thread-exit hook does it */
}

Test(gc_threads, thread_exiting_registered_is_unregistered_by_itself)
{
    pthread_t t;

    mw_gc_malloc(16);
    pthread_create(&t, NULL, exits_registered, NULL);
    pthread_join(t, NULL);
    gc_test_collect(); /* would signal a dead thread if it were still listed */
    cr_assert_eq(mw__gc.nthreads, 1);
}

static pthread_barrier_t parked;

static void *park(void *arg)
{
    (void)arg;
    mw_gc_register_thread();
    mw_gc_malloc(64);
    pthread_barrier_wait(&parked); /* registered, and still there when the parent forks */
    pthread_barrier_wait(&parked);
    mw_gc_unregister_thread();
    return NULL;
}

Test(gc_threads, forked_child_collects_without_the_parent_threads)
{
    pthread_t t;
    pid_t pid;
    int status;

    mw_gc_malloc(16);
    pthread_barrier_init(&parked, NULL, 2);
    pthread_create(&t, NULL, park, NULL);
    pthread_barrier_wait(&parked);
    pid = fork();
    if (pid == 0) {
        /* Only this thread exists here: collecting must not wait for the parent's others. */
        for (int i = 0; i < 200000; i++)
            mw_gc_malloc(64);
        mw_gc_collect();
        _exit(mw__gc.nthreads == 1 ? 0 : 3);
    }
    cr_assert_gt(pid, 0);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    pthread_barrier_wait(&parked);
    pthread_join(t, NULL);
    cr_assert(WIFEXITED(status), "the child died of signal %d", WTERMSIG(status));
    cr_assert_eq(WEXITSTATUS(status), 0);
}

struct cell2 {
    struct cell2 *next;
    long v;
};

static void *first_user(void *arg)
{
    struct cell2 *h = NULL;
    long n = 0, i;

    (void)arg;
    for (i = 0; i < 100000; i++) { /* the first call registers this (non-main) thread */
        struct cell2 *c = mw_gc_malloc(sizeof *c);
        c->next = h;
        c->v = i;
        h = c;
        mw_gc_malloc(100);
    }
    gc_test_collect();
    for (; h; h = h->next)
        n++;
    return (void *)(intptr_t)n;
}

Test(gc_threads, first_user_may_be_another_thread_than_main)
{
    pthread_t t;
    void *n;

    pthread_create(&t, NULL, first_user, NULL);
    pthread_join(t, &n);
    cr_assert_eq((intptr_t)n, 100000);
}
