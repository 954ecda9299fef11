/* fork(): the child must start from consistent tables. The prepare handler closes the gate (no
 * thread enters a hook from then on), waits for the threads inside one to leave, then takes every
 * lock of the tracer; both sides release them. In the child only the forking thread exists: the
 * frees the other threads had batched happen there, and their state is folded. */
#include "leak/leak.h"

#include <pthread.h>
#include <unistd.h>

/* Locks a thread may hold outside a hook (dlclose's) come first, then the gate, then the rest. */
static void fork_prepare(void)
{
    struct mw__leak_thread *self = mw__leak_me();

    if (mw__leak_state != MW__ON && mw__leak_state != MW__DONE)
        return;
    mw__modules_lock();
    if (mw__gate_close(self, MW__GATE_FORK, 10000) > 0)
        mw__leak_log("fork: a thread stayed inside the allocator: the child may see it busy");
    self->busy++;
    mw__threads_lock();
    mw__unwind_lock();
    mw__traces_lock();
    mw__blocks_lock_all();
    mw__world_lock();
    mw__freelist_lock();
    mw__sys_lock();
}

static void release_all(void)
{
    mw__sys_unlock();
    mw__freelist_unlock();
    mw__world_unlock();
    mw__blocks_unlock_all();
    mw__traces_unlock();
    mw__unwind_unlock();
    mw__threads_unlock();
}

static void fork_parent(void)
{
    struct mw__leak_thread *self = mw__leak_me();

    if (mw__leak_state != MW__ON && mw__leak_state != MW__DONE)
        return;
    release_all();
    mw__gate_open();
    self->busy--;
    mw__modules_unlock();
}

static void fork_child(void)
{
    struct mw__leak_thread *self = mw__leak_me();

    if (mw__leak_state != MW__ON && mw__leak_state != MW__DONE)
        return;
    release_all();
    mw__leak_pid = getpid();
    mw__leak_threads_after_fork();
    mw__gate_open();
    self->busy--;
    mw__modules_unlock();
    self->inited = 0; /* this thread is the child's main thread now */
    mw__wire_after_fork();
    mw__wire_hello(MW__LEAK_HELLO_FORKED);
}

void mw__fork_install(void)
{
    struct mw__leak_thread *self = mw__leak_me();

    self->busy++;
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    self->busy--;
}
