/* Boehm's thread calls on memwalk: GC_THREADS redirections, results kept alive until the join,
 * detached threads, self-registration, the signal mask. */
#include <pthread.h>

/* The plain pthread_create, before <gc.h> redirects the name. */
static int plain_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
    return pthread_create(t, NULL, fn, arg);
}

#define GC_THREADS 1
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "boehm_test.h"

struct result {
    long value;
    char text[64];
};

static void *worker(void *arg)
{
    struct result *r = GC_MALLOC(sizeof *r);

    r->value = (long)(intptr_t)arg;
    snprintf(r->text, sizeof r->text, "thread %ld", r->value);
    for (int i = 0; i < 20000; i++)
        GC_MALLOC(64); /* garbage, and collections by the way */
    return r;
}

Test(boehm_threads, redirected_create_keeps_results_until_join)
{
    pthread_t t[8];

    GC_INIT();
    for (long i = 0; i < 8; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i), 0);
    /* The threads have returned: their results are held by nothing of the program's. */
    for (int k = 0; k < 3; k++)
        bt_collect();
    for (long i = 0; i < 8; i++) {
        void *ret;
        struct result *r;
        cr_assert_eq(pthread_join(t[i], &ret), 0);
        r = ret;
        cr_assert_eq(r->value, i);
        char want[64];
        snprintf(want, sizeof want, "thread %ld", i);
        cr_assert_str_eq(r->text, want);
    }
}

static void *exiting(void *arg)
{
    struct result *r = GC_MALLOC(sizeof *r);

    r->value = 77;
    (void)arg;
    pthread_exit(r);
}

Test(boehm_threads, exit_value_survives_too)
{
    pthread_t t;
    void *ret;

    GC_INIT();
    cr_assert_eq(pthread_create(&t, NULL, exiting, NULL), 0);
    bt_collect();
    bt_collect();
    cr_assert_eq(pthread_join(t, &ret), 0);
    cr_assert_eq(((struct result *)ret)->value, 77);
}

static volatile int detached_done;

static void *detached(void *arg)
{
    (void)worker(arg);
    __atomic_add_fetch(&detached_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

Test(boehm_threads, detached_threads_of_both_kinds)
{
    pthread_attr_t attr;
    pthread_t t;

    GC_INIT();
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(pthread_create(&t, i % 2 ? &attr : NULL, detached, NULL), 0);
        if (i % 2 == 0)
            cr_assert_eq(pthread_detach(t), 0);
    }
    while (__atomic_load_n(&detached_done, __ATOMIC_SEQ_CST) < 10)
        GC_MALLOC(32);
    pthread_attr_destroy(&attr);
}

static void *self_registering(void *arg)
{
    struct GC_stack_base sb;
    int *out = arg;

    out[0] = GC_thread_is_registered();
    cr_assert_eq(GC_get_stack_base(&sb), GC_SUCCESS);
    cr_assert_gt((uintptr_t)sb.mem_base, (uintptr_t)&sb, "the base is above this frame");
    out[1] = GC_register_my_thread(&sb);
    out[2] = GC_register_my_thread(&sb);
    (void)worker(NULL);
    out[3] = GC_unregister_my_thread();
    out[4] = GC_thread_is_registered();
    return NULL;
}

Test(boehm_threads, plain_thread_registers_itself)
{
    pthread_t t;
    int out[5];

    GC_INIT();
    GC_allow_register_threads();
    /* GC_pthread_create is not needed: the plain call, as a program would make it. */
    cr_assert_eq(plain_create(&t, self_registering, out), 0);
    GC_pthread_join(t, NULL);
    cr_assert_eq(out[0], 0);
    cr_assert_eq(out[1], GC_SUCCESS);
    cr_assert_eq(out[2], GC_DUPLICATE);
    cr_assert_eq(out[3], GC_SUCCESS);
    cr_assert_eq(out[4], 0);
}

static void *with_base(struct GC_stack_base *sb, void *arg)
{
    cr_assert_not_null(sb->mem_base);
    return arg;
}

static void *identity(void *arg)
{
    return arg;
}

Test(boehm_threads, call_with_stack_base_and_do_blocking_pass_the_result)
{
    int x;

    cr_assert_eq(GC_call_with_stack_base(with_base, &x), &x);
    cr_assert_eq(GC_do_blocking(identity, &x), &x);
    cr_assert_eq(GC_call_with_gc_active(identity, &x), &x);
}

Test(boehm_threads, sigmask_never_blocks_the_stop_signal)
{
    sigset_t all, now;

    GC_INIT();
    sigfillset(&all);
    cr_assert_eq(pthread_sigmask(SIG_BLOCK, &all, NULL), 0);
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    cr_assert(sigismember(&now, SIGUSR1));
    cr_assert(!sigismember(&now, SIGPWR), "the collector's signal stays deliverable");
    cr_assert_eq(pthread_sigmask(SIG_SETMASK, &all, NULL), 0);
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    cr_assert(!sigismember(&now, SIGPWR));
}
