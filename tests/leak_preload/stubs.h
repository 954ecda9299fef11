/* The unit tests of the preload's tables link its objects from an archive without the entry
 * points, the constructor and the exit path: these stand in for the few symbols those would
 * give (each test file includes this once through test_tables.c). */
#ifndef MEMWALK_TESTS_LEAK_PRELOAD_STUBS_H
#define MEMWALK_TESTS_LEAK_PRELOAD_STUBS_H

#include "leak/leak.h"

struct mw__leak_real mw__real;
volatile int mw__leak_state = MW__ON;
int mw__leak_num_callers = 12;
int mw__leak_trace_children;
pid_t mw__leak_pid;
int mw__test_disabled;
uint32_t mw__exit_flags; /* (the wire writer, which the heap profile links in, reads these) */

const char *mw__leak_exe(void)
{
    return "";
}

void mw__leak_disable(const char *why)
{
    (void)why;
    mw__test_disabled = 1;
}

void mw__leak_flush(struct mw__leak_thread *self, struct mw__leak_thread *t, int real)
{
    (void)self;
    (void)real;
    t->ndefer = 0;
}

void mw__world_park_now(void)
{
    for (;;)
        pause();
}

void mw__world_thread_exit(uintptr_t lo, uintptr_t hi)
{
    (void)lo;
    (void)hi;
}

void mw__signals_deliver(struct mw__leak_thread *t)
{
    (void)t;
    abort();
}

#endif
