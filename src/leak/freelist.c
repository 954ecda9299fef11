/* The freed-block queue (memcheck's --freelist-vol, 20,000,000 bytes by default, as there): the
 * most recent frees, up to that many bytes of blocks and at most QCAP blocks, with the stacks of
 * their allocation and of their free. A second release of one of them, or of an address inside one,
 * is then described as memcheck describes it ("N bytes inside a block of size M free'd", both
 * stacks).
 *
 * By default the blocks themselves go back to the allocator at once: holding them is what costs
 * (the program's new blocks come from memory freed long ago, out of the cache; sqlite3 and perl
 * ran 1.5 to 1.6 times slower under the tracer with it than without, medians of 5 on a loaded
 * machine). With hold on (memcheck's
 * own way: --freelist-hold=yes, MEMWALK_FREELIST_HOLD=yes) a queued block is not handed out
 * again until it leaves the queue, its contents cleared: a second release is recognised even
 * after later allocations (without hold, the allocator may have given the address to a new
 * block, whose free it then is, as natively), and the exit scan is not misled by stale words: an
 * old pointer to the freed block does not point to a new live one, and a new block's unwritten
 * words do not hold pointers the old one had (the scan, unlike memcheck, cannot tell written
 * memory from memory never written).
 *
 * One ring, one lock, taken once per batch of a thread's frees (entry.c). A held block leaving
 * the ring has its header forgotten before the allocator gets it back. */
#include "leak/leak.h"

#include <string.h>

/* Blocks remembered at most, whatever their size: the ring is written all round, so its size is
 * memory the program pays for (at 1 << 20 entries, 24 MiB and 6,000 page faults of sqlite3's
 * run; 1.65x native CPU time there against 1.55x at 1 << 16, medians of 7). */
#define QCAP (1u << 16)

struct qent {
    uintptr_t p;
    uint64_t size;
    uint32_t ftrace, atrace;
};

static struct qent *q;
static size_t qhead, qcount;
static uint64_t qbytes, qvol;
static size_t qmapped; /* bytes of the ring mapped in so far (it is written in order) */
static int qhold;
static mw__lock_t qlock;

void mw__freelist_init(uint64_t vol, int hold)
{
    if (!vol)
        return;
    q = mw__leak_map(QCAP * sizeof *q);
    if (!q) {
        mw__leak_log("out of memory for the freed-block queue: frees are not remembered");
        return;
    }
    qvol = vol;
    qhold = hold;
}

int mw__freelist_holds(void)
{
    return qhold;
}

/* Gives a block back to the allocator; real: the allocator's pointer, NULL when unknown. */
static void give_back(uintptr_t p, void *real)
{
    uint64_t size;

    if (!real)
        mw__blocks_extent((void *)p, &real, &size);
    mw__blocks_unmapping((void *)p, real);
    if (qhold)
        mw__blocks_forget((void *)p);
    mw__real.free(real);
}

/* Takes the oldest entry off the ring (the lock held); returns its address. */
static uintptr_t pop(void)
{
    uintptr_t p = q[qhead].p;

    qbytes -= q[qhead].size;
    qhead = (qhead + 1) % QCAP;
    qcount--;
    return p;
}

static void push(uintptr_t p, uint64_t size, uint32_t ftrace, uint32_t atrace)
{
    struct qent *e = &q[(qhead + qcount) % QCAP];

    e->p = p;
    e->size = size;
    e->ftrace = ftrace;
    e->atrace = atrace;
    qcount++;
    qbytes += size;
}

void mw__freelist_put(void *const *ps, const struct mw__blkinfo *const *bs, size_t n)
{
    uintptr_t out[2 * MW__DEFER];
    struct mw__blkinfo b[MW__DEFER];
    size_t nout = 0, i;
    char *map_in = NULL;

    if (!qvol) {
        for (i = 0; i < n; i++)
            give_back((uintptr_t)ps[i], bs[i] ? bs[i]->real : NULL);
        return;
    }
    for (i = 0; i < n; i++) {
        if (bs[i])
            b[i] = *bs[i];
        else
            mw__blocks_freed(ps[i], &b[i]);
    }
    for (i = 0; qhold && i < n; i++)
        memset(ps[i], 0, b[i].size);
    mw__lock(&qlock);
    if (qmapped < QCAP * sizeof *q &&
        ((qhead + qcount) % QCAP + 2 * MW__DEFER) * sizeof *q >= qmapped) {
        map_in = (char *)q + qmapped; /* (mapped in after the lock: a system call) */
        qmapped += MW__PREFAULT;
    }
    for (i = 0; i < n; i++) {
        if (qcount == QCAP) {
            uintptr_t old = pop();
            if (qhold)
                out[nout++] = old;
        }
        push((uintptr_t)ps[i], b[i].size, b[i].free_trace, b[i].alloc_trace);
    }
    /* Oldest first, until the volume fits again (a few at a time: the rest on later frees). */
    while (qbytes > qvol && qcount > 0 && nout < 2 * MW__DEFER) {
        uintptr_t old = pop();
        if (qhold)
            out[nout++] = old;
    }
    /* The next batch's entries (where the new ones go and, once the ring is full, the oldest
     * leave) are cold by now: they load while the program runs (half of this function's time on
     * sqlite3 went to that miss). The next batch is taken to be this one's size (batches of one
     * prefetching a batch of 32's lines spent a fifth of this function's time on the loop). */
    for (i = 0; i < n * sizeof *q + 64; i += 64)
        __builtin_prefetch((const char *)&q[(qhead + qcount) % QCAP] + i, 1);
    /* Held blocks that leave next are cold by now: their headers load while the program runs
     * (the allocator reads the same lines when it gets the blocks back). */
    for (i = 0; qhold && i < nout && 2 * MW__DEFER + i < qcount; i++)
        __builtin_prefetch((const char *)q[(qhead + 2 * MW__DEFER + i) % QCAP].p - MW__HDR, 1);
    mw__unlock(&qlock);
    if (map_in)
        mw__leak_prefault(map_in, MW__PREFAULT);
    if (qhold)
        for (i = 0; i < nout; i++)
            give_back(out[i], NULL);
    else
        for (i = 0; i < n; i++)
            give_back((uintptr_t)ps[i], b[i].real);
}

void mw__freelist_note(uintptr_t p, uint64_t size, uint32_t ftrace, uint32_t atrace)
{
    if (!qvol || qhold) /* (held blocks never move inside the allocator) */
        return;
    mw__lock(&qlock);
    if (qcount == QCAP)
        pop();
    push(p, size, ftrace, atrace);
    while (qbytes > qvol && qcount > 1)
        pop();
    mw__unlock(&qlock);
}

int mw__freelist_find(uintptr_t a, size_t margin, int nested, struct mw__blkinfo *out,
                      uintptr_t *start)
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
            memset(out, 0, sizeof *out);
            out->size = e->size;
            out->free_trace = e->ftrace;
            out->alloc_trace = e->atrace;
            *start = e->p;
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
