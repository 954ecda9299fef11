/* The freed-block queue (memcheck's --freelist-vol, 20,000,000 bytes by default, as there): a
 * freed block goes back to the allocator only after that many bytes of later frees, its contents
 * cleared and its header saying freed (blocks.c) meanwhile. So a second release of it is known
 * for what it is and described with the stacks of its allocation and its free, as memcheck
 * describes it, instead of reaching the allocator (which would abort, or hand the block to two
 * owners). And the exit scan is not misled by stale words: an old pointer to the freed block
 * does not point to a new live one, and a new block's unwritten words do not hold pointers the
 * old one had (the scan, unlike memcheck, cannot tell written memory from memory never written).
 *
 * One ring, one lock, taken once per batch of a thread's frees (entry.c). A block leaving the
 * ring has its header forgotten before the allocator gets it back. */
#include "leak/leak.h"

#include <string.h>

#define QCAP (1u << 20) /* blocks held at most, whatever their size */

struct qent {
    uintptr_t p;
    uint64_t size;
};

static struct qent *q;
static size_t qhead, qcount;
static uint64_t qbytes, qvol;
static mw__lock_t qlock;

void mw__freelist_init(uint64_t vol)
{
    if (!vol)
        return;
    q = mw__leak_map(QCAP * sizeof *q);
    if (q)
        qvol = vol;
    else
        mw__leak_log("out of memory for the freed-block queue: freed blocks are not held");
}

int mw__freelist_on(void)
{
    return qvol != 0;
}

/* Gives a block leaving the queue (or never entering it) back to the allocator. */
static void give_back(uintptr_t p)
{
    void *real;
    uint64_t size;

    mw__blocks_extent((void *)p, &real, &size);
    mw__blocks_forget((void *)p);
    mw__real.free(real);
}

void mw__freelist_put(void *const *ps, size_t n)
{
    struct qent out[2 * MW__DEFER];
    size_t nout = 0, i;

    if (!qvol) {
        for (i = 0; i < n; i++)
            give_back((uintptr_t)ps[i]);
        return;
    }
    for (i = 0; i < n; i++) {
        void *real;
        uint64_t size;
        mw__blocks_extent(ps[i], &real, &size);
        memset(ps[i], 0, size);
    }
    mw__lock(&qlock);
    for (i = 0; i < n; i++) {
        struct qent *e;
        if (qcount == QCAP && nout < 2 * MW__DEFER) {
            out[nout++] = q[qhead];
            qbytes -= q[qhead].size;
            qhead = (qhead + 1) % QCAP;
            qcount--;
        }
        if (qcount == QCAP) {
            /* Cannot happen (room was made above), but never overwrite a held block. */
            give_back((uintptr_t)ps[i]);
            continue;
        }
        e = &q[(qhead + qcount) % QCAP];
        e->p = (uintptr_t)ps[i];
        mw__blocks_extent(ps[i], NULL, &e->size);
        qcount++;
        qbytes += e->size;
    }
    /* Oldest first, until the volume fits again (a few at a time: the rest on later frees). */
    while (qbytes > qvol && qcount > 0 && nout < 2 * MW__DEFER) {
        out[nout++] = q[qhead];
        qbytes -= q[qhead].size;
        qhead = (qhead + 1) % QCAP;
        qcount--;
    }
    mw__unlock(&qlock);
    for (i = 0; i < nout; i++)
        give_back(out[i].p);
}

int mw__freelist_find(uintptr_t a, size_t margin, int nested, uintptr_t *start, uint64_t *size)
{
    size_t i;
    int found = 0;

    if (!qvol)
        return 0;
    if (nested) {
        /* A signal handler may have interrupted the lock's holder in this thread. */
        if (__atomic_exchange_n(&qlock.v, 1, __ATOMIC_ACQUIRE))
            return 0;
    } else {
        mw__lock_always(&qlock);
    }
    /* Newest first: memcheck looks for the most recently freed block. */
    for (i = qcount; i-- > 0;) {
        const struct qent *e = &q[(qhead + i) % QCAP];
        if (a + margin >= e->p && a < e->p + e->size + margin) {
            *start = e->p;
            *size = e->size;
            found = 1;
            break;
        }
    }
    mw__unlock_always(&qlock);
    return found;
}

void mw__freelist_lock(void)
{
    mw__lock_always(&qlock);
}

void mw__freelist_unlock(void)
{
    mw__unlock_always(&qlock);
}
