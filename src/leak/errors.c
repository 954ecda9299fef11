/* Bad releases in memcheck's words (issue 12, 1): a free, delete, delete[] or realloc of a
 * pointer that is not a live block (a double free, an address inside a block, on a stack, in a
 * global, never allocated), and a release of the wrong family (malloc/delete, new/free,
 * new[]/delete, new/delete[]).
 *
 * The hook that finds one (entry.c) calls here with the stack of the call already interned. The
 * address is described the way memcheck does, as far as the process can tell: a recently freed
 * block (the freed-block queue, freelist.c) or a live one containing it, with their stacks; a
 * thread's stack; otherwise the mapping it lies in (memwalk, which has the symbol tables, looks
 * for a data symbol or an object's section first). Errors with the same kind and the same first
 * four frames are one context, as memcheck merges them; a new context goes to memwalk at once
 * (a LIVE message, record.h) so that it is printed while the program runs, and every context
 * with its count goes in the result at exit. The bad call itself is not forwarded, as under
 * memcheck (a mismatch is: memcheck frees the block anyway).
 *
 * Nothing here allocates. A release nested in the tracer (a signal handler interrupting a hook)
 * cannot take a stack: a bad one there is dropped and counted without one. */
#include "leak/leak.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/task.h"
#include "scan/procmaps.h"

#define MAX_CTX     1000u     /* memcheck's --error-limit: contexts kept */
#define MAX_ERRS    10000000u /* and errors counted */
#define KEY_FRAMES  4u        /* frames that tell contexts apart (memcheck's Vg_MedRes) */
#define REDZONE     16u       /* memcheck's malloc redzone: "N bytes before/after a block" */
#define STACK_RZ    128u      /* the amd64 red zone below the stack pointer */
#define PATHS       (256u << 10)
#define LIVE_BYTES  (1u << 20)
#define MAX_THREADS 1024u

struct ctx {
    mw__leak_error_t e;
    uintptr_t key[KEY_FRAMES];
    uint32_t nkey;
    uint32_t path; /* offset in paths */
};

static struct ctx *ctxs;
static uint32_t nctx;    /* published contexts (the exit path reads them without the lock) */
static uint64_t nerrs;   /* errors counted */
static int limited;      /* memcheck's cutoff was reached: nothing more is counted */
static uint64_t dropped; /* bad releases nested in the tracer, not described */
static char *paths;
static size_t paths_used;
static mw__lock_t lock;
static int map_failed;

/* ---- thread numbers, as memcheck gives them: the lowest free one (1 is the main thread) ---- */
static uint64_t numbers[MAX_THREADS / 64] = {2};

uint32_t mw__errors_thread_number(void)
{
    uint32_t i;

    for (i = 2; i < MAX_THREADS; i++) {
        uint64_t bit = 1ull << (i % 64), old = __atomic_load_n(&numbers[i / 64], __ATOMIC_RELAXED);
        while (!(old & bit))
            if (__atomic_compare_exchange_n(&numbers[i / 64], &old, old | bit, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_RELAXED))
                return i;
    }
    return 0;
}

void mw__errors_thread_gone(uint32_t num)
{
    if (num > 1 && num < MAX_THREADS)
        __atomic_and_fetch(&numbers[num / 64], ~(1ull << (num % 64)), __ATOMIC_RELEASE);
}

/* ---- the live stream ------------------------------------------------------------------------ */
static char *live;       /* the stream being built */
static size_t live_used; /* bytes in it */
static unsigned long long mods_adds, mods_subs;
static int mods_sent;

static void live_put(const void *p, size_t n)
{
    if (live_used + n > LIVE_BYTES) {
        live_used = LIVE_BYTES + 1; /* too big: not sent */
        return;
    }
    memcpy(live + live_used, p, n);
    live_used += n;
}

/* Sends the stream built in live as LIVE chunks, the last flagged END. */
static void live_send(int fd)
{
    size_t done = 0;

    if (live_used > LIVE_BYTES)
        return;
    do {
        size_t n = live_used - done < MW__LEAK_CHUNK ? live_used - done : MW__LEAK_CHUNK;
        mw__leak_msg_t h = {MW__LEAK_MAGIC, MW__LEAK_MSG_LIVE,
                            (uint16_t)(done + n == live_used ? MW__LEAK_MSG_END : 0),
                            (int32_t)getpid(), (uint32_t)n};
        struct iovec iov[2] = {{&h, sizeof h}, {live + done, n}};
        struct msghdr m;
        ssize_t r;
        memset(&m, 0, sizeof m);
        m.msg_iov = iov;
        m.msg_iovlen = 2;
        do
            r = sendmsg(fd, &m, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return;
        done += n;
    } while (done < live_used);
}

struct modwalk {
    unsigned long long adds, subs;
    int changed;
};

static int mods_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct modwalk *w = arg;

    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        w->adds = info->dlpi_adds;
        w->subs = info->dlpi_subs;
    }
    return 1;
}

/* The loaded objects, when they changed since memwalk last heard of them. */
static void live_modules(int fd)
{
    struct modwalk w = {0, 0, 1};
    mw__leak_live_t lh = {MW__LEAK_LIVE_MODULES, 0};
    size_t len;

    dl_iterate_phdr(mods_cb, &w);
    if (mods_sent && w.adds == mods_adds && w.subs == mods_subs)
        return;
    live_used = sizeof lh;
    len = mw__wire_list_modules(live + live_used, LIVE_BYTES - live_used, &lh.count);
    live_used += len;
    memcpy(live, &lh, sizeof lh);
    live_send(fd);
    mods_adds = w.adds;
    mods_subs = w.subs;
    mods_sent = 1;
}

static void live_trace(uint32_t id)
{
    unsigned depth = 0, k;
    const uintptr_t *ips = id ? mw__traces_get(id, &depth) : NULL;
    uint32_t d = depth;

    live_put(&d, sizeof d);
    for (k = 0; k < depth; k++) {
        uint64_t ip = ips[k];
        live_put(&ip, sizeof ip);
    }
}

/* A new context, sent while the program runs. Called with the lock held. */
static void live_error(const struct ctx *c)
{
    int fd = mw__wire_live_fd();
    mw__leak_live_t lh = {MW__LEAK_LIVE_ERROR, 3};
    mw__leak_error_t e = c->e;

    if (fd < 0 || !live)
        return;
    live_modules(fd);
    live_used = 0;
    live_put(&lh, sizeof lh);
    e.where = 0;
    e.alloc = c->e.alloc ? 1 : MW__LEAK_NO_TRACE;
    e.freed = c->e.freed ? 2 : MW__LEAK_NO_TRACE;
    live_put(&e, sizeof e);
    live_put(paths + c->path, c->e.path_len);
    live_trace(c->e.where);
    live_trace(c->e.alloc);
    live_trace(c->e.freed);
    live_send(fd);
}

/* ---- describing the address ------------------------------------------------------------------ */
struct frame_at {
    uintptr_t hook_sp;    /* the release function's frame */
    uintptr_t ra, sp, bp; /* its caller */
};

/* Which of the calling thread's frames holds a, as memcheck numbers them (0: the release
 * function): -1 when none of the first frames does. */
static int32_t frame_of(const struct frame_at *f, uintptr_t a, uint64_t *ip)
{
    uintptr_t cip = f->ra, csp = f->sp, cbp = f->bp, slots[6];
    unsigned n;
    int32_t k;

    if (a >= f->hook_sp && a < f->sp) {
        *ip = 0;
        return 0;
    }
    for (k = 1; k < mw__leak_num_callers; k++) {
        uintptr_t ip_here = cip, lo = csp;
        if (mw__unwind_step_saves(&cip, &csp, &cbp, 1, slots, 6, &n) < 0 || csp <= lo)
            return -1;
        if (a >= lo && a < csp && csp - lo <= (64u << 20)) {
            *ip = ip_here - 1; /* inside the call: the function it returns to */
            return k;
        }
    }
    return -1;
}

/* Fills the mapping part of e (perms, path) from /proc/self/maps; returns the mapping's
 * bounds, or 0 when a is in none. */
static int mapping_of(uintptr_t a, mw__leak_error_t *e, char *path, size_t cap, uintptr_t *lo,
                      uintptr_t *hi)
{
    char buf[16384];
    mw__maps_reader_t r;
    mw__maps_line_t l;
    int got, found = 0;

    if (mw__maps_open(&r, "/proc/self/maps", buf, sizeof buf) < 0)
        return 0;
    while ((got = mw__maps_next(&r, &l)) != 0) {
        if (got < 0)
            continue;
        if (a < l.lo || a >= l.hi)
            continue;
        e->map = (l.perms[0] == 'r' ? MW__LEAK_MAP_R : 0) |
                 (l.perms[1] == 'w' ? MW__LEAK_MAP_W : 0) |
                 (l.perms[2] == 'x' ? MW__LEAK_MAP_X : 0) |
                 (l.perms[3] == 's' ? MW__LEAK_MAP_SHARED : 0);
        if (l.path_len && l.path[0] == '/') {
            size_t n = l.path_len < cap ? l.path_len : cap;
            e->map |= MW__LEAK_MAP_FILE;
            memcpy(path, l.path, n);
            e->path_len = (uint32_t)n;
        }
        *lo = l.lo;
        *hi = l.hi;
        found = 1;
        break;
    }
    mw__maps_close(&r);
    return found;
}

static void describe(struct mw__leak_thread *t, uintptr_t a, const struct frame_at *f, int nested,
                     mw__leak_error_t *e, char *path, size_t cap)
{
    struct mw__blkinfo b;
    uintptr_t start, lo, hi;

    /* memcheck's order: a recently freed block, then a live one (each with its redzone). */
    if (mw__freelist_find(a, REDZONE, nested, &b, &start)) {
        e->addr_kind = MW__LEAK_ADDR_FREED;
        e->offset = (int64_t)(a - start);
        e->size = b.size;
        e->alloc = b.alloc_trace;
        e->freed = b.free_trace;
        return;
    }
    if (mw__blocks_find(a, REDZONE, &b, &start)) {
        e->addr_kind = MW__LEAK_ADDR_ALLOCD;
        e->offset = (int64_t)(a - start);
        e->size = b.size;
        e->alloc = b.alloc_trace;
        return;
    }
    if (!mapping_of(a, e, path, cap, &lo, &hi))
        return; /* UNKNOWN */
    e->addr_kind = MW__LEAK_ADDR_MAPPED;
    /* The calling thread's own stack: the frame that holds it, or how far below the stack
     * pointer it lies. */
    if (f && t->stack_hi && a < t->stack_hi && t->stack_hi <= hi && t->stack_hi > lo) {
        e->addr_kind = MW__LEAK_ADDR_STACK;
        e->thread = t->num;
        if (a + STACK_RZ >= f->hook_sp) {
            e->frame = frame_of(f, a, &e->frame_ip);
        } else {
            e->below_sp = f->hook_sp - a;
        }
        return;
    }
    {
        struct mw__leak_thread *o = mw__threads_stack_owner(lo, hi);
        if (o) {
            e->addr_kind = MW__LEAK_ADDR_STACK;
            e->thread = o->num;
        }
    }
}

/* ---- contexts ----------------------------------------------------------------------------------
 */
static int ready(void)
{
    static char *tables; /* ctxs, paths and live in one mapping, published once */
    const size_t len = MAX_CTX * sizeof *ctxs + PATHS + LIVE_BYTES;
    char *t = __atomic_load_n(&tables, __ATOMIC_ACQUIRE), *expected = NULL;

    if (!t) {
        if (__atomic_load_n(&map_failed, __ATOMIC_RELAXED))
            return 0;
        t = mw__leak_map(len);
        if (!t) {
            __atomic_store_n(&map_failed, 1, __ATOMIC_RELAXED);
            mw__leak_log("out of memory for error contexts: bad frees are not reported");
            return 0;
        }
        /* Two threads' first errors at once: one mapping wins, the other goes. */
        if (!__atomic_compare_exchange_n(&tables, &expected, t, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            mw__leak_unmap(t, len);
            t = expected;
        }
    }
    if (!ctxs) {
        paths = t + MAX_CTX * sizeof *ctxs;
        live = paths + PATHS;
        __atomic_store_n(&ctxs, (struct ctx *)t, __ATOMIC_RELEASE);
    }
    return 1;
}

/* Counts the error e (where: its stack); a new context is kept and sent. */
static void record(const mw__leak_error_t *e, const char *path, int nested)
{
    uintptr_t key[KEY_FRAMES];
    unsigned depth = 0, nkey, i;
    const uintptr_t *ips = e->where ? mw__traces_get(e->where, &depth) : NULL;
    uint32_t n;

    nkey = depth < KEY_FRAMES ? depth : KEY_FRAMES;
    for (i = 0; i < nkey; i++)
        key[i] = ips[i];
    if (nested) {
        if (__atomic_exchange_n(&lock.v, 1, __ATOMIC_ACQUIRE)) {
            __atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED);
            return;
        }
    } else {
        mw__lock_always(&lock);
    }
    if (limited || nerrs >= MAX_ERRS)
        goto out;
    n = __atomic_load_n(&nctx, __ATOMIC_RELAXED);
    for (i = 0; i < n; i++) {
        struct ctx *c = &ctxs[i];
        if (c->e.kind == e->kind && c->nkey == nkey &&
            memcmp(c->key, key, nkey * sizeof key[0]) == 0) {
            __atomic_add_fetch(&c->e.count, 1, __ATOMIC_RELAXED);
            nerrs++;
            goto out;
        }
    }
    if (n == MAX_CTX) {
        limited = 1;
        ctxs[0].e.flags |= MW__LEAK_ERRF_LIMIT;
        goto out;
    }
    {
        struct ctx *c = &ctxs[n];
        c->e = *e;
        c->e.count = 1;
        c->e.origin = (int32_t)mw__leak_pid;
        c->e.id = n;
        memcpy(c->key, key, sizeof key);
        c->nkey = nkey;
        c->path = (uint32_t)paths_used;
        if (paths_used + e->path_len <= PATHS) {
            memcpy(paths + paths_used, path, e->path_len);
            paths_used += e->path_len;
        } else {
            c->e.path_len = 0;
        }
        nerrs++;
        __atomic_store_n(&nctx, n + 1, __ATOMIC_RELEASE);
        if (!nested)
            live_error(c);
    }
out:
    mw__unlock_always(&lock);
}

static int expected_kind(unsigned how)
{
    return how == MW__REL_DELETE         ? MW__ALLOC_NEW
           : how == MW__REL_DELETE_ARRAY ? MW__ALLOC_NEW_ARRAY
                                         : MW__ALLOC_MALLOC;
}

int mw__errors_mismatch(unsigned how, const struct mw__blkinfo *b)
{
    return (int)b->kind != expected_kind(how);
}

static char first_name[16]; /* the main thread's name at start, which new threads inherit */

void mw__errors_init_name(void)
{
    (void)prctl(PR_GET_NAME, (unsigned long)first_name, 0, 0, 0);
}

/* t's name in out when it is not the one threads inherit (memcheck names a thread from its
 * pthread_setname_np or PR_SET_NAME; a name equal to the program's is taken for none). */
static void thread_name(const struct mw__leak_thread *t, char out[16])
{
    char buf[32];

    out[0] = '\0';
    if (t == mw__leak_peek()) {
        if (prctl(PR_GET_NAME, (unsigned long)buf, 0, 0, 0) < 0)
            return;
        buf[15] = '\0';
    } else {
        ssize_t n = mw__task_read(0, t->tid, "comm", buf, sizeof buf);
        if (n <= 0)
            return;
        if (buf[n - 1] == '\n')
            buf[n - 1] = '\0';
        buf[15] = '\0';
    }
    if (first_name[0] && strcmp(buf, first_name) != 0)
        memcpy(out, buf, strlen(buf) + 1);
}

int mw__errors_release(struct mw__leak_thread *t, void *p, unsigned how, int st,
                       const struct mw__blkinfo *b, uint32_t where, uintptr_t *fp, int nested)
{
    mw__leak_error_t e;
    char path[4096];
    struct frame_at f;
    int go_on = 0;

    (void)how;                     /* the stack names the call */
    if (!ready())                  /* (mmap only: also safe where locks may be held) */
        return st == MW__BLK_LIVE; /* nothing can be said: a mismatch is still freed */
    memset(&e, 0, sizeof e);
    e.addr = (uintptr_t)p;
    e.by_thread = t->num;
    thread_name(t, e.thread_name);
    e.where = where;
    e.alloc = e.freed = 0;
    e.frame = -1;
    if (st == MW__BLK_LIVE) {
        /* The wrong family: reported, then released as memcheck does. */
        e.kind = MW__LEAK_ERR_MISMATCH;
        e.addr_kind = MW__LEAK_ADDR_ALLOCD;
        e.size = b->size;
        e.alloc = mw__blocks_slot_trace(b->slot);
        go_on = 1;
    } else {
        e.kind = MW__LEAK_ERR_FREE;
        if (st == MW__BLK_FREED) {
            e.addr_kind = MW__LEAK_ADDR_FREED;
            e.size = b->size;
            e.alloc = b->alloc_trace;
            e.freed = b->free_trace;
        } else if (fp) {
            f.hook_sp = (uintptr_t)fp;
            f.ra = fp[1];
            f.sp = (uintptr_t)(fp + 2);
            f.bp = fp[0];
            describe(t, (uintptr_t)p, &f, nested, &e, path, sizeof path);
        } else {
            describe(t, (uintptr_t)p, NULL, nested, &e, path, sizeof path);
        }
    }
    record(&e, path, nested);
    return go_on;
}

void mw__errors_nested(struct mw__leak_thread *t, void *p, const struct mw__blkinfo *b)
{
    mw__leak_error_t e;

    if (!ctxs) {
        __atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED);
        return;
    }
    memset(&e, 0, sizeof e);
    e.kind = MW__LEAK_ERR_FREE;
    e.addr = (uintptr_t)p;
    e.by_thread = t->num;
    thread_name(t, e.thread_name);
    e.frame = -1;
    e.addr_kind = MW__LEAK_ADDR_FREED;
    e.size = b->size;
    e.alloc = b->alloc_trace;
    e.freed = b->free_trace;
    record(&e, NULL, 1);
}

void mw__errors_after_fork(struct mw__leak_thread *self)
{
    size_t i;

    /* The child tells memwalk its own objects; only this thread is left. */
    mods_sent = 0;
    for (i = 0; i < MAX_THREADS / 64; i++)
        numbers[i] = 0;
    numbers[0] = 2;
    if (self->num > 1 && self->num < MAX_THREADS)
        numbers[self->num / 64] |= 1ull << (self->num % 64);
    lock.v = 0;
}

/* ---- the result section -------------------------------------------------------------------- */
void mw__errors_traces(void (*use)(uint32_t trace, void *ctx), void *ctx)
{
    uint32_t i, n = __atomic_load_n(&nctx, __ATOMIC_ACQUIRE);

    for (i = 0; i < n; i++) {
        use(ctxs[i].e.where, ctx);
        use(ctxs[i].e.alloc, ctx);
        use(ctxs[i].e.freed, ctx);
    }
}

void mw__errors_write(void (*put)(const void *, size_t), uint32_t (*map)(uint32_t, void *),
                      void *ctx)
{
    uint32_t i, n = __atomic_load_n(&nctx, __ATOMIC_ACQUIRE);
    mw__leak_section_t s = {MW__LEAK_SECT_ERRORS, n, 0};

    if (!n)
        return;
    for (i = 0; i < n; i++)
        s.bytes += sizeof(mw__leak_error_t) + ctxs[i].e.path_len;
    put(&s, sizeof s);
    for (i = 0; i < n; i++) {
        mw__leak_error_t e = ctxs[i].e;
        e.where = map(e.where, ctx);
        e.alloc = map(e.alloc, ctx);
        e.freed = map(e.freed, ctx);
        put(&e, sizeof e);
        put(paths + ctxs[i].path, e.path_len);
    }
}

uint64_t mw__errors_dropped(void)
{
    return __atomic_load_n(&dropped, __ATOMIC_RELAXED);
}
