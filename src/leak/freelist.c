/* Delayed reuse of freed blocks (MEMWALK_FREELIST_VOL, memcheck's --freelist-vol): a freed block
 * goes back to the allocator only after VOL bytes of later frees, and its contents are cleared
 * when it is freed. Without it the allocator hands the same address out again at once, and two
 * kinds of stale words mislead the scan, which (unlike memcheck) cannot tell written memory from
 * memory never written: an old pointer to the freed block now points to a new live one, and a
 * new block's unwritten words still hold pointers the old one had. */
#include "leak/leak.h"

#include <string.h>

#define QCAP (1u << 20) /* blocks held at most, whatever their size */

struct qent {
    void *real;
    size_t size;
};

static struct qent *q;
static size_t qhead, qcount, qbytes;
static uint64_t qvol;
static mw__lock_t qlock;

void mw__freelist_init(uint64_t vol)
{
    if (!vol)
        return;
    q = mw__leak_map(QCAP * sizeof *q);
    if (q)
        qvol = vol;
}

int mw__freelist_on(void)
{
    return qvol != 0;
}

void mw__freelist_put(void *p, size_t size, void *real)
{
    struct qent out[16];
    size_t nout = 0, i;

    memset(p, 0, size);
    mw__lock(&qlock);
    q[(qhead + qcount) % QCAP].real = real;
    q[(qhead + qcount) % QCAP].size = size;
    qcount++;
    qbytes += size;
    /* Oldest first, until the volume fits again (a few at a time: the rest on later frees). */
    while ((qbytes > qvol || qcount == QCAP) && nout < 16) {
        out[nout++] = q[qhead];
        qbytes -= q[qhead].size;
        qhead = (qhead + 1) % QCAP;
        qcount--;
    }
    mw__unlock(&qlock);
    for (i = 0; i < nout; i++)
        mw__real.free(out[i].real);
}

void mw__freelist_lock(void)
{
    mw__lock_always(&qlock);
}

void mw__freelist_unlock(void)
{
    mw__unlock_always(&qlock);
}
