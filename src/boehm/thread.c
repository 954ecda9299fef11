/* Boehm's thread calls on memwalk's thread registration. */
#include "boehm/boehm.h"

#include <errno.h>
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

int GC_pthread_cancel(pthread_t thread)
{
    return pthread_cancel(thread);
}

/* ---- threads created for the collector --------------------------------------------------------
 * Until memwalk's own mw_gc_pthread_create/_join/_detach/_exit land (issue 10, point 4), this is
 * the one translation of GC_pthread_create and friends: the thread registers itself before the
 * start routine runs and unregisters when it ends; its start record, in uncollectable memory,
 * keeps the argument alive until the thread runs and the result alive until it is joined. */

struct start {
    void *(*fn)(void *);
    void *arg;
    void *ret;
    pthread_t tid;
    int detached, done;
    struct start *next; /* the list of records of threads not yet joined */
};

static pthread_mutex_t starts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct start *starts; /* (the records are uncollectable: this list is not what keeps them) */
static __thread struct start *current;

static void unlink_start(struct start *s)
{
    struct start **pp;

    for (pp = &starts; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
}

static struct start *find_start(pthread_t t)
{
    struct start *s;

    for (s = starts; s; s = s->next)
        if (pthread_equal(s->tid, t))
            return s;
    return NULL;
}

/* Sets *flag (the record's done or detached), and frees the record once both are set: the thread
 * has ended and nobody will join it. */
static void settle(struct start *s, int *flag)
{
    int drop;

    pthread_mutex_lock(&starts_lock);
    *flag = 1;
    drop = s->done && s->detached;
    if (drop)
        unlink_start(s);
    pthread_mutex_unlock(&starts_lock);
    if (drop)
        mw_gc_free(s);
}

/* The thread ends (returned, GC_pthread_exit, cancelled): its result stays in the record for the
 * join, unless it is detached; then it unregisters. */
static void thread_end(void *arg)
{
    struct start *s = arg;

    current = NULL;
    settle(s, &s->done);
    (void)mw_gc_unregister_thread();
}

static void *thread_start(void *arg)
{
    struct start *s = arg;
    void *ret;

    if (mw_gc_register_thread() < 0)
        mw__boehm_fatal("GC_pthread_create: the new thread cannot be registered (no stack found, "
                        "or out of memory)");
    current = s;
    pthread_cleanup_push(thread_end, s);
    ret = s->fn(s->arg);
    s->ret = ret;
    pthread_cleanup_pop(1);
    return ret;
}

int GC_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    struct start *s = GC_malloc_uncollectable(sizeof *s);
    int state = PTHREAD_CREATE_JOINABLE, r;
    pthread_t tid;

    if (!s)
        return EAGAIN;
    s->fn = fn;
    s->arg = arg;
    if (attr)
        pthread_attr_getdetachstate(attr, &state);
    s->detached = state == PTHREAD_CREATE_DETACHED;
    pthread_mutex_lock(&starts_lock);
    s->next = starts;
    starts = s;
    r = pthread_create(&tid, attr, thread_start, s);
    if (r == 0)
        s->tid = tid;
    else
        unlink_start(s);
    pthread_mutex_unlock(&starts_lock);
    if (r != 0) {
        mw_gc_free(s);
        return r;
    }
    *thread = tid;
    return 0;
}

/* A thread's record is found before the thread is joined or detached: until then its pthread_t
 * cannot name another thread. */
int GC_pthread_join(pthread_t thread, void **retval)
{
    struct start *s;
    void *ret;
    int r;

    pthread_mutex_lock(&starts_lock);
    s = find_start(thread);
    pthread_mutex_unlock(&starts_lock);
    r = pthread_join(thread, &ret);
    if (r != 0)
        return r;
    if (s) {
        pthread_mutex_lock(&starts_lock);
        unlink_start(s);
        pthread_mutex_unlock(&starts_lock);
        mw_gc_free(s); /* the result is in ret now, on this thread's stack */
    }
    if (retval)
        *retval = ret;
    return 0;
}

int GC_pthread_detach(pthread_t thread)
{
    struct start *s;

    pthread_mutex_lock(&starts_lock);
    s = find_start(thread);
    pthread_mutex_unlock(&starts_lock);
    if (s)
        settle(s, &s->detached);
    return pthread_detach(thread);
}

void GC_pthread_exit(void *retval)
{
    if (current)
        current->ret = retval;
    pthread_exit(retval);
}

/* The collector's stop signal as MEMWALK_GC_SIGNAL sets it (SIGPWR by default). */
int GC_get_suspend_signal(void)
{
    const char *env = getenv("MEMWALK_GC_SIGNAL");
    long v = env && *env ? strtol(env, NULL, 10) : 0;

    return v > 0 && v < 65 && v != SIGKILL && v != SIGSTOP && v != SIGSEGV ? (int)v : SIGPWR;
}

/* The one translation of GC_pthread_sigmask until mw_gc_pthread_sigmask lands (issue 10, point
 * 4): pthread_sigmask, except that the collector's stop signal is never blocked. */
int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *oset)
{
    sigset_t copy;

    if (!set || how == SIG_UNBLOCK)
        return pthread_sigmask(how, set, oset);
    copy = *set;
    sigdelset(&copy, GC_get_suspend_signal());
    return pthread_sigmask(how, &copy, oset);
}
