/* MW_GC_THREADS: a file that defines it before including memwalk/gc.h gets the pthread calls
 * redirected to the collector's wrappers, like GC_THREADS with Boehm GC's gc.h. */
#define MW_GC_THREADS
#include <memwalk/gc.h>

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>

static void *plain_thread(void *arg)
{
    sigset_t all, cur;
    long sum = 0;

    /* No mw_gc_register_thread(): pthread_create registered it. */
    for (long i = 0; i < 50000; i++) {
        long *p = mw_gc_malloc(24);
        p[0] = i;
        sum += p[0];
    }
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* mw_gc_pthread_sigmask */
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    if (sigismember(&cur, SIGPWR) || !sigismember(&cur, SIGUSR2))
        return NULL;
    mw_gc_collect(); /* stops the main thread, which is registered too */
    return (void *)(intptr_t)(sum == 50000L * 49999 / 2 ? (long)arg : 0);
}

Test(gc_pthread_redirect, pthread_calls_go_through_the_collector, .timeout = 60)
{
    pthread_t t[3];
    void *r;

    mw_gc_malloc(16);
    for (long i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, plain_thread, (void *)(i + 1)), 0);
    for (long i = 0; i < 3; i++) {
        cr_assert_eq(pthread_join(t[i], &r), 0);
        cr_assert_eq((intptr_t)r, i + 1);
    }
}
