/* Boehm's thread calls on memwalk's thread registration. */
#include "boehm/boehm.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

void GC_allow_register_threads(void)
{
}

int GC_register_my_thread(const struct GC_stack_base *sb)
{
    (void)sb; /* memwalk finds the calling thread's stack itself */
    if (mw_gc_thread_is_registered())
        return GC_DUPLICATE;
    return mw_gc_register_thread() == 0 ? GC_SUCCESS : GC_NO_MEMORY;
}

int GC_unregister_my_thread(void)
{
    (void)mw_gc_unregister_thread();
    return GC_SUCCESS;
}

int GC_thread_is_registered(void)
{
    return mw_gc_thread_is_registered();
}

int GC_get_stack_base(struct GC_stack_base *sb)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;

    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return GC_UNIMPLEMENTED;
    if (pthread_attr_getstack(&attr, &addr, &size) != 0) {
        pthread_attr_destroy(&attr);
        return GC_UNIMPLEMENTED;
    }
    pthread_attr_destroy(&attr);
    sb->mem_base = (char *)addr + size;
    return GC_SUCCESS;
}

void *GC_call_with_stack_base(GC_stack_base_func fn, void *arg)
{
    struct GC_stack_base sb;

    /* As with Boehm: a base somewhere in this frame. fn's result is its own, not sb. */
    sb.mem_base = (void *)&sb;
    /* cppcheck-suppress returnDanglingLifetime */
    return fn(&sb, arg);
}

/* Registered threads are stopped with a signal, blocked or not: nothing to do around a blocking
 * call. */
void *GC_do_blocking(GC_fn_type fn, void *client_data)
{
    return fn(client_data);
}

void *GC_call_with_gc_active(GC_fn_type fn, void *client_data)
{
    return fn(client_data);
}

void *GC_dlopen(const char *path, int mode)
{
    return dlopen(path, mode);
}

/* ---- threads created for the collector: memwalk's own calls, which register the thread before
 * its start routine runs, keep its argument alive until it holds it and its result until it is
 * joined or detached, and never leave the collector's lock held when it is cancelled. */

int GC_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    return mw_gc_pthread_create(thread, attr, fn, arg);
}

int GC_pthread_join(pthread_t thread, void **retval)
{
    return mw_gc_pthread_join(thread, retval);
}

int GC_pthread_detach(pthread_t thread)
{
    return mw_gc_pthread_detach(thread);
}

void GC_pthread_exit(void *retval)
{
    mw_gc_pthread_exit(retval);
}

int GC_pthread_cancel(pthread_t thread)
{
    return mw_gc_pthread_cancel(thread);
}

/* The collector's stop signal as MEMWALK_GC_SIGNAL sets it (SIGPWR by default). */
int GC_get_suspend_signal(void)
{
    const char *env = getenv("MEMWALK_GC_SIGNAL");
    long v = env && *env ? strtol(env, NULL, 10) : 0;

    return v > 0 && v < 65 && v != SIGKILL && v != SIGSTOP && v != SIGSEGV ? (int)v : SIGPWR;
}

/* pthread_sigmask, except that the collector's stop signal is never blocked. */
int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *oset)
{
    return mw_gc_pthread_sigmask(how, set, oset);
}
