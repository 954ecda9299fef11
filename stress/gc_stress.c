/* Randomized stress test of the collector against an independent shadow model.
 *
 * The program mutates a graph of collected objects at random: it allocates (small, large, huge,
 * scanned and atomic objects), links and unlinks them (with interior pointers too), moves root
 * pointers around, reallocs, frees explicitly, sets finalizers and collects. A shadow model, kept
 * in malloc memory the collector never scans, records the same graph by object ids. After every
 * collection, automatic or explicit, it walks the graph from the roots in the model and in real
 * memory side by side: each reachable object must carry its id, its intact payload and the
 * pointers the model expects. Every finalizer call must be for an object the model holds
 * unreachable, and only once. The heap must stay within a bound of the reachable bytes.
 *
 *   gc-stress [--ops N] [--seed S] [--threads N] [--explicit-roots] [--quiet]
 *
 * --threads N runs N registered threads, each with a graph and a model of its own (roots on its
 * stack), all sharing the collector: collections stop them at any point of their operations.
 * Seeds S, S+1, ... go to the threads.
 * --explicit-roots registers the root arrays with mw_gc_add_roots and keeps every collected
 * pointer in them between allocations: the mode for a collector built without stack and data
 * scanning (MW_GC_EXPLICIT_ROOTS), under AddressSanitizer or valgrind.
 * Exit status 0 when every check passed, 1 on the first failure (with a message), 2 on bad usage.
 */
#include <memwalk/gc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NROOTS    256 /* static root slots */
#define NUROOTS   64  /* root slots in a malloc'd block registered as a user root */
#define MAXPTR    16
#define NONE      UINT32_MAX
#define HUGE_SIZE (1536u << 10)
#define PAYLOAD(id, i) \
    ((((uint64_t)(id)*UINT64_C(0x9e3779b97f4a7c15)) ^ ((uint64_t)(i) << 48)) | (UINT64_C(1) << 63))

/* The layout of a collected object in real memory. Atomic objects have nptr == 0 and no ptr[]. */
struct sobj {
    uint64_t id;
    uint32_t nptr;
    uint32_t size;
    void *ptr[]; /* nptr pointers, then payload words up to size */
};

/* The model of one object. */
struct rec {
    uint64_t id;
    uint32_t size, nptr;
    uint32_t edge[MAXPTR];     /* record index of the target, or NONE */
    uint32_t edge_off[MAXPTR]; /* byte offset into the target */
    uint8_t atomic, finalizable, finalized, mark;
    uint32_t next_free;
};

/* With --threads each thread runs its own graph and model: everything below is per thread. */
static void *static_roots[NROOTS]; /* a data root (the stack holds them in a thread) */
static __thread void **roots;
static __thread void **uroots; /* user root block */
static __thread uint32_t root_rec[NROOTS + NUROOTS], root_off[NROOTS + NUROOTS];

static __thread struct rec *recs;
static __thread uint32_t nrecs, caprecs, free_rec = NONE;
static __thread uint64_t next_id = 1, seed = 1, seed0;
static __thread long checks, collections_seen, finalized_total, verified_objects;
static __thread uint64_t max_heap_seen, max_reach_seen;
static int explicit_roots, quiet, threaded;

/* Finalizers run in whichever thread triggered the collection: each graph's log is shared. */
struct fin_log {
    pthread_mutex_t lock;
    uint64_t *ids;
    size_t n, cap;
};
static __thread struct fin_log *fin;

static uint64_t rng(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static uint32_t rnd(uint32_t n)
{
    return (uint32_t)(rng() % n);
}

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "gc-stress: FAIL (seed %llu): ", (unsigned long long)seed0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void **slot_at(unsigned i)
{
    return i < NROOTS ? &roots[i] : &uroots[i - NROOTS];
}

static uint32_t rec_new(void)
{
    uint32_t r;

    if (free_rec != NONE) {
        r = free_rec;
        free_rec = recs[r].next_free;
    } else {
        if (nrecs == caprecs) {
            caprecs = caprecs ? caprecs * 2 : 1024;
            recs = realloc(recs, caprecs * sizeof *recs);
            if (!recs)
                fail("out of memory for the model");
        }
        r = nrecs++;
    }
    memset(&recs[r], 0, sizeof recs[r]);
    return r;
}

/* ---- the real objects ------------------------------------------------------------------------ */

static uint64_t *payload(struct sobj *o, uint32_t *nwords)
{
    size_t head = sizeof *o + o->nptr * sizeof(void *);
    *nwords = (uint32_t)((o->size - head) / 8);
    return (uint64_t *)((char *)o + head);
}

static void fill(struct sobj *o, uint64_t id, uint32_t size, uint32_t nptr)
{
    uint32_t i, n;
    uint64_t *w;

    o->id = id;
    o->size = size;
    o->nptr = nptr;
    for (i = 0; i < nptr; i++)
        o->ptr[i] = NULL;
    w = payload(o, &n);
    for (i = 0; i < n; i++)
        w[i] = PAYLOAD(id, i);
}

static int payload_ok(struct sobj *o)
{
    uint32_t i, n;
    uint64_t *w = payload(o, &n);
    for (i = 0; i < n; i++)
        if (w[i] != PAYLOAD(o->id, i))
            return 0;
    return 1;
}

/* ---- model reachability ------------------------------------------------------------------------
 */

static __thread uint32_t *work;
static __thread size_t capwork;

static void push_work(size_t *n, uint32_t r)
{
    if (*n == capwork) {
        capwork = capwork ? capwork * 2 : 4096;
        work = realloc(work, capwork * sizeof *work);
        if (!work)
            fail("out of memory for the model");
    }
    work[(*n)++] = r;
}

/* Marks the model's reachable records; returns the reachable bytes. */
static uint64_t model_mark(void)
{
    size_t n = 0;
    uint64_t bytes = 0;
    uint32_t i;

    for (i = 0; i < nrecs; i++)
        recs[i].mark = 0;
    for (i = 0; i < NROOTS + NUROOTS; i++)
        if (root_rec[i] != NONE && !recs[root_rec[i]].mark) {
            recs[root_rec[i]].mark = 1;
            push_work(&n, root_rec[i]);
        }
    while (n) {
        struct rec *r = &recs[work[--n]];
        bytes += r->size;
        for (i = 0; i < r->nptr; i++)
            if (r->edge[i] != NONE && !recs[r->edge[i]].mark) {
                recs[r->edge[i]].mark = 1;
                push_work(&n, r->edge[i]);
            }
    }
    return bytes;
}

/* Walks the model and the real graph together from every root; frees the records of the
 * unreachable objects (they can never become reachable again). */
static void verify(const char *when)
{
    size_t n = 0;
    uint32_t i, k;
    uint64_t bytes = 0;
    mw_gc_stats_t st;
    void **ptrs = NULL;
    size_t capptrs = 0;

    for (i = 0; i < nrecs; i++)
        recs[i].mark = 0;
    /* work[] holds record indexes; ptrs[] the real addresses found for them */
    for (i = 0; i < NROOTS + NUROOTS; i++) {
        uint32_t r = root_rec[i];
        void *p = *slot_at(i);
        if (r == NONE) {
            if (p)
                fail("%s: root %u holds %p, the model says NULL", when, i, p);
            continue;
        }
        if (!p)
            fail("%s: root %u is NULL, the model says object %llu", when, i,
                 (unsigned long long)recs[r].id);
        if (recs[r].mark)
            continue;
        recs[r].mark = 1;
        push_work(&n, r);
        if (n > capptrs) {
            capptrs = capwork;
            ptrs = realloc(ptrs, capptrs * sizeof *ptrs);
        }
        ptrs[n - 1] = (char *)p - root_off[i];
    }
    while (n) {
        uint32_t r = work[--n];
        struct sobj *o = ptrs[n];
        struct rec *m = &recs[r];
        verified_objects++;
        bytes += m->size;
        if (o->id != m->id)
            fail("%s: object at %p has id %llu, expected %llu (freed too early?)", when, (void *)o,
                 (unsigned long long)o->id, (unsigned long long)m->id);
        if (o->size != m->size || o->nptr != (m->atomic ? 0 : m->nptr))
            fail("%s: object %llu: header damaged", when, (unsigned long long)m->id);
        if (!payload_ok(o))
            fail("%s: object %llu: payload damaged", when, (unsigned long long)m->id);
        if (m->atomic)
            continue;
        for (k = 0; k < m->nptr; k++) {
            uint32_t t = m->edge[k];
            void *p = o->ptr[k];
            if (t == NONE) {
                if (p)
                    fail("%s: object %llu: ptr %u should be NULL", when, (unsigned long long)m->id,
                         k);
                continue;
            }
            if (!p)
                fail("%s: object %llu: ptr %u is NULL", when, (unsigned long long)m->id, k);
            if (recs[t].mark)
                continue;
            recs[t].mark = 1;
            push_work(&n, t);
            if (n > capptrs) {
                capptrs = capwork;
                ptrs = realloc(ptrs, capptrs * sizeof *ptrs);
            }
            ptrs[n - 1] = (char *)p - m->edge_off[k];
        }
    }
    free(ptrs);
    /* Unreachable records go; a finalizable one was either finalized or may still be. */
    for (i = 0; i < nrecs; i++)
        if (!recs[i].mark && recs[i].id) {
            recs[i].id = 0;
            recs[i].next_free = free_rec;
            free_rec = i;
        }
    mw_gc_get_stats(&st);
    if (st.heap_bytes > max_heap_seen)
        max_heap_seen = st.heap_bytes;
    if (bytes > max_reach_seen)
        max_reach_seen = bytes;
    /* Bounded heap: a few times the reachable bytes, plus the collector's slack (with threads
     * the heap holds every thread's graph: the bound is checked on the total at the end). */
    if (!threaded && st.heap_bytes > 8 * bytes + (64u << 20))
        fail("%s: heap %llu bytes for %llu reachable bytes", when,
             (unsigned long long)st.heap_bytes, (unsigned long long)bytes);
    checks++;
}

/* ---- finalizers ------------------------------------------------------------------------------ */

static void finalizer(void *obj, void *ctx)
{
    struct sobj *o = obj;
    struct fin_log *l = ctx;

    if (!payload_ok(o))
        fail("finalizer: object %llu damaged before its finalizer ran", (unsigned long long)o->id);
    pthread_mutex_lock(&l->lock);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->ids = realloc(l->ids, l->cap * sizeof *l->ids);
        if (!l->ids)
            fail("out of memory for the finalizer log");
    }
    l->ids[l->n++] = o->id;
    pthread_mutex_unlock(&l->lock);
}

/* Each logged id must be unreachable in the model, finalizable, and finalized once. */
static void check_finalized(void)
{
    size_t i, n;
    uint32_t r;
    uint64_t *ids;

    pthread_mutex_lock(&fin->lock);
    n = fin->n;
    ids = n ? malloc(n * sizeof *ids) : NULL;
    if (n && !ids)
        fail("out of memory for the finalizer log");
    if (n)
        memcpy(ids, fin->ids, n * sizeof *ids);
    fin->n = 0;
    pthread_mutex_unlock(&fin->lock);
    if (!n)
        return;
    model_mark();
    for (i = 0; i < n; i++) {
        for (r = 0; r < nrecs; r++)
            if (recs[r].id == ids[i])
                break;
        if (r == nrecs)
            continue; /* its record went with an earlier verify: it was unreachable then */
        if (recs[r].mark)
            fail("object %llu finalized while reachable", (unsigned long long)ids[i]);
        if (!recs[r].finalizable)
            fail("object %llu finalized without a finalizer", (unsigned long long)ids[i]);
        if (recs[r].finalized)
            fail("object %llu finalized twice", (unsigned long long)ids[i]);
        recs[r].finalized = 1;
        finalized_total++;
    }
    free(ids);
}

/* ---- operations --------------------------------------------------------------------------------
 */

static uint32_t pick_size(int atomic, uint32_t *nptr)
{
    uint32_t c = rnd(1000), size;

    if (c < 3)
        size = HUGE_SIZE + rnd(1u << 20);
    else if (c < 40)
        size = 5000 + rnd(200000);
    else
        size = 32 + rnd(480);
    size &= ~7u;
    *nptr = atomic ? 0 : rnd(MAXPTR + 1);
    if (sizeof(struct sobj) + *nptr * sizeof(void *) > size)
        *nptr = (uint32_t)((size - sizeof(struct sobj)) / sizeof(void *));
    return size;
}

/* Allocates a new object into root slot s. */
static void op_alloc(unsigned s)
{
    int atomic = rnd(5) == 0;
    uint32_t nptr, size = pick_size(atomic, &nptr), r;
    struct sobj *o;

    o = atomic ? mw_gc_malloc_atomic(size) : mw_gc_malloc(size);
    if (!o)
        fail("allocation of %u bytes failed", size);
    *slot_at(s) = o; /* rooted before anything else can allocate */
    if (!atomic)
        for (uint32_t i = 0; i < size / 8; i++)
            if (((uint64_t *)o)[i])
                fail("mw_gc_malloc(%u) returned memory that is not zero", size);
    r = rec_new();
    recs[r].id = next_id++;
    recs[r].size = size;
    recs[r].nptr = nptr;
    recs[r].atomic = (uint8_t)atomic;
    for (uint32_t i = 0; i < MAXPTR; i++)
        recs[r].edge[i] = NONE;
    fill(o, recs[r].id, size, nptr);
    root_rec[s] = r;
    root_off[s] = 0;
    if (rnd(20) == 0) {
        if (mw_gc_set_finalizer(o, finalizer, fin) != 0)
            fail("mw_gc_set_finalizer failed");
        recs[r].finalizable = 1;
    }
}

static unsigned pick_root(void)
{
    return rnd(NROOTS + NUROOTS);
}

static void op_link(void)
{
    unsigned a = pick_root(), b = pick_root();
    uint32_t ra = root_rec[a], rb = root_rec[b], k, off = 0;
    struct sobj *o;

    if (ra == NONE || recs[ra].atomic || !recs[ra].nptr)
        return;
    o = (struct sobj *)((char *)*slot_at(a) - root_off[a]);
    k = rnd(recs[ra].nptr);
    if (rb == NONE || rnd(8) == 0) {
        o->ptr[k] = NULL;
        recs[ra].edge[k] = NONE;
        return;
    }
    if (rnd(4) == 0)
        off = rnd(recs[rb].size); /* an interior pointer */
    o->ptr[k] = (char *)*slot_at(b) - root_off[b] + off;
    recs[ra].edge[k] = rb;
    recs[ra].edge_off[k] = off;
}

static void op_walk(void)
{
    unsigned a = pick_root(), b = pick_root();
    uint32_t ra = root_rec[a], k;
    struct sobj *o;

    if (ra == NONE || recs[ra].atomic || !recs[ra].nptr)
        return;
    o = (struct sobj *)((char *)*slot_at(a) - root_off[a]);
    k = rnd(recs[ra].nptr);
    *slot_at(b) = o->ptr[k];
    root_rec[b] = recs[ra].edge[k];
    root_off[b] = recs[ra].edge[k] == NONE ? 0 : recs[ra].edge_off[k];
}

static void op_copy(void)
{
    unsigned a = pick_root(), b = pick_root();
    uint32_t off = 0;

    if (root_rec[a] != NONE && rnd(3) == 0)
        off = rnd(recs[root_rec[a]].size);
    *slot_at(b) = root_rec[a] == NONE ? NULL : (char *)*slot_at(a) - root_off[a] + off;
    root_rec[b] = root_rec[a];
    root_off[b] = root_rec[a] == NONE ? 0 : off;
}

static void op_drop(void)
{
    unsigned a = pick_root();
    *slot_at(a) = NULL;
    root_rec[a] = NONE;
    root_off[a] = 0;
}

/* A fresh object only root slot s refers to: realloc it and check the contents moved along. */
static void op_realloc(unsigned s)
{
    uint32_t r, newsize, keep, i, n;
    struct sobj *o;
    uint64_t *w;

    op_alloc(s);
    r = root_rec[s];
    if (recs[r].finalizable)
        return;
    o = *slot_at(s);
    newsize = rnd(2) ? recs[r].size * 2 + rnd(5000) : recs[r].size / 2 + 32;
    newsize &= ~7u;
    keep = newsize < recs[r].size ? newsize : recs[r].size;
    o = mw_gc_realloc(o, newsize);
    if (!o)
        fail("mw_gc_realloc to %u bytes failed", newsize);
    *slot_at(s) = o;
    if (o->id != recs[r].id)
        fail("realloc lost the object's id");
    w = payload(o, &n);
    for (i = 0; i < n && sizeof *o + o->nptr * 8 + (i + 1) * 8 <= keep; i++)
        if (w[i] != PAYLOAD(o->id, i))
            fail("realloc lost payload word %u", i);
    if (!recs[r].atomic)
        for (i = keep; i < newsize; i++)
            if (((unsigned char *)o)[i])
                fail("realloc: grown bytes of a scanned object are not zero");
    /* Make it a consistent object of the new size. */
    n = o->nptr;
    if (sizeof *o + n * sizeof(void *) > newsize)
        n = (uint32_t)((newsize - sizeof *o) / sizeof(void *));
    fill(o, recs[r].id, newsize, n);
    recs[r].size = newsize;
    recs[r].nptr = n;
    for (i = 0; i < MAXPTR; i++)
        recs[r].edge[i] = NONE;
}

/* A fresh object nothing else refers to: free it explicitly. */
static void op_free(unsigned s)
{
    op_alloc(s);
    if (recs[root_rec[s]].finalizable)
        return;
    mw_gc_free(*slot_at(s));
    *slot_at(s) = NULL;
    recs[root_rec[s]].id = 0; /* the record is garbage; the verify pass recycles it */
    root_rec[s] = NONE;
}

struct totals {
    pthread_mutex_t lock;
    long collections, checks, objects, finalized;
    uint64_t max_heap, max_reach;
};
static struct totals totals = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, 0};
static long ops = 200000;

/* One graph: its roots (static or, in a thread, on this stack), its model, its operations. */
static void run(uint64_t s0)
{
    void *stack_roots[NROOTS] = {0};
    /* Not freed: finalizers of this graph's garbage may still run in other threads after this
     * one is done, and log here. */
    struct fin_log *log = calloc(1, sizeof *log);
    mw_gc_stats_t st;
    uint64_t last_collections = 0;
    long i, since_verify = 0;

    if (!log || pthread_mutex_init(&log->lock, NULL))
        fail("out of memory for the finalizer log");
    seed = seed0 = s0;
    fin = log;
    roots = threaded ? stack_roots : static_roots;
    uroots = calloc(NUROOTS, sizeof *uroots);
    if (!uroots || mw_gc_add_roots(uroots, NUROOTS * sizeof *uroots) != 0)
        fail("cannot register the user roots");
    if (explicit_roots && mw_gc_add_roots(roots, NROOTS * sizeof *roots) != 0)
        fail("cannot register the static roots");
    for (i = 0; i < NROOTS + NUROOTS; i++)
        root_rec[i] = NONE;

    for (i = 0; i < ops; i++) {
        uint32_t c = rnd(1000);
        if (c < 300)
            op_alloc(pick_root());
        else if (c < 600)
            op_link();
        else if (c < 700)
            op_walk();
        else if (c < 800)
            op_copy();
        else if (c < 900)
            op_drop();
        else if (c < 940)
            op_realloc(pick_root());
        else if (c < 980)
            op_free(pick_root());
        else if (c < 982)
            mw_gc_collect();
        check_finalized();
        mw_gc_get_stats(&st);
        since_verify++;
        /* Alone, after every collection; with threads (collections are everyone's), after a
         * collection once 64 operations went by. */
        if (st.collections != last_collections && (!threaded || since_verify >= 64)) {
            collections_seen += (long)(st.collections - last_collections);
            last_collections = st.collections;
            since_verify = 0;
            verify("after a collection");
        }
    }
    mw_gc_collect();
    check_finalized();
    verify("at the end");
    for (i = 0; i < NROOTS + NUROOTS; i++)
        *slot_at((unsigned)i) = NULL;
    mw_gc_remove_roots(uroots, NUROOTS * sizeof *uroots);
    if (explicit_roots)
        mw_gc_remove_roots(roots, NROOTS * sizeof *roots);
    pthread_mutex_lock(&totals.lock);
    totals.collections += collections_seen;
    totals.checks += checks;
    totals.objects += verified_objects;
    totals.finalized += finalized_total;
    if (max_heap_seen > totals.max_heap)
        totals.max_heap = max_heap_seen;
    totals.max_reach += max_reach_seen;
    pthread_mutex_unlock(&totals.lock);
    /* The model may go: nothing but the (cleared) roots pointed into it. */
    free(recs);
    free(work);
    free(uroots);
}

static void *thread_main(void *arg)
{
    if (mw_gc_register_thread() != 0)
        fail("mw_gc_register_thread failed");
    run((uint64_t)(uintptr_t)arg);
    if (mw_gc_unregister_thread() != 0)
        fail("mw_gc_unregister_thread failed");
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t s0 = 1;
    long nthreads = 0;

    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--ops") && a + 1 < argc)
            ops = atol(argv[++a]);
        else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
            s0 = strtoull(argv[++a], NULL, 0);
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc)
            nthreads = atol(argv[++a]);
        else if (!strcmp(argv[a], "--explicit-roots"))
            explicit_roots = 1;
        else if (!strcmp(argv[a], "--quiet"))
            quiet = 1;
        else {
            fprintf(stderr, "usage: gc-stress [--ops N] [--seed S] [--threads N] "
                            "[--explicit-roots] [--quiet]\n");
            return 2;
        }
    }
    if (ops <= 0 || !s0 || nthreads < 0 || nthreads > 64 || (nthreads && explicit_roots)) {
        fprintf(stderr, "gc-stress: --ops and --seed must be positive, --threads 0..64 (and not "
                        "with --explicit-roots)\n");
        return 2;
    }
    if (nthreads) {
        pthread_t t[64];
        threaded = 1;
        mw_gc_malloc(1); /* the main thread owns the collector; the others register */
        for (long i = 0; i < nthreads; i++)
            if (pthread_create(&t[i], NULL, thread_main, (void *)(uintptr_t)(s0 + (uint64_t)i)))
                fail("cannot start thread %ld", i);
        for (long i = 0; i < nthreads; i++)
            pthread_join(t[i], NULL);
    } else {
        run(s0);
    }
    if (threaded) {
        mw_gc_stats_t st;
        mw_gc_get_stats(&st);
        if (st.heap_bytes > 8 * totals.max_reach + (64u << 20))
            fail("heap %llu bytes after %ld threads", (unsigned long long)st.heap_bytes, nthreads);
    }
    if (!quiet) {
        char who[48] = "";
        if (nthreads)
            snprintf(who, sizeof who, " in each of %ld threads", nthreads);
        printf("gc-stress: ok: %ld ops%s, seed %llu, %ld collections seen, %ld verifications of "
               "%ld objects, %ld finalized, max heap %.1f MiB for max reachable %.1f MiB\n",
               ops, who, (unsigned long long)s0, totals.collections, totals.checks, totals.objects,
               totals.finalized, (double)totals.max_heap / 1048576.0,
               (double)totals.max_reach / 1048576.0);
    }
    return 0;
}
