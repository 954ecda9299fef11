/* Thread stacks as roots: what to push, for the mark phase, of a registered thread stopped (or
 * collecting) with its stack pointer at sp. A registered stack is never skipped: one that cannot
 * be bounded stops the program with the reason, since skipping it would free objects its frames
 * still use. */
#include "gc/gc_internal.h"

#include <errno.h>
#include <string.h>

#include "scan/scan.h"

void mw__gc_mark_stack(struct mw__gc_thread *t, uintptr_t sp)
{
    mw__range_t r[2];
    int n, i;

    if (!sp)
        return; /* a thread that vanished while registered (thread.c): nothing of it is read */
    n = mw__scan_stack_ranges(sp, &t->stack_lo, t->stack_hi, r);
    if (n < 0)
        mw__gc_fatal("thread %d: its stack pointer %#lx is outside its stack [%#lx, %#lx) and the "
                     "stack it runs on cannot be bounded (/proc/self/maps: %s); its frames cannot "
                     "be scanned, and skipping them would free objects they use",
                     t->tid, (unsigned long)sp, (unsigned long)t->stack_lo,
                     (unsigned long)t->stack_hi,
                     n == -EFAULT ? "the address is in no mapping" : strerror(-n));
    for (i = 0; i < n; i++)
        mw__gc_push_root(r[i].lo, r[i].hi);
}
