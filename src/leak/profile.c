/* The heap profile of `memwalk heap`: the heap's size over time and, in detailed snapshots, the
 * stacks that hold it, by massif's rules, so that the file memwalk writes reads as massif's.
 *
 * The rules (massif's, from its documentation and its source, rewritten here): a normal snapshot
 * is due at an allocation or a free once the time has moved min_interval past the previous one;
 * every detailed_freq-th is detailed (the live bytes of every stack). When max_snapshots are
 * held, half are culled, each time the one that spans the least time (never the first, the last
 * or the peak), and min_interval becomes the smallest gap left, so snapshots thin out as the
 * program runs. At a free, the heap is at a local maximum: if it exceeds the peak snapshot by
 * more than peak_inaccuracy percent, a detailed peak snapshot replaces the old peak. Sizes are
 * the sizes asked for (mem_heap_B); extra bytes (mem_heap_extra_B) are massif's: heap_admin
 * bytes per block plus the rounding of the size up to 16 bytes.
 *
 * Cost: the hooks add a few counters (atomic once a second thread exists) and one compare that
 * calls in here when a snapshot may be due. Time in B is free; time in ms reads the clock only
 * every so many events, as many as the recent rate says fit in the wait for the next snapshot.
 * Times are kept in microseconds and written in milliseconds. */
#include "leak/profile.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "leak/leak.h"

int mw__prof_on;

/* ---- options ------------------------------------------------------------------------------ */
static int unit_ms;
static uint64_t admin = 8;
static uint32_t detailed_freq = 10, max_snaps = 100, peak_milli = 1000;
static int all_sites; /* every snapshot records its sites (for the SVG timeline) */
static int started;   /* init ran (once) */
static uint64_t start_seq;

/* ---- the counters the hooks update -------------------------------------------------------- */
static uint64_t heap_b, extra_b;
static uint64_t ticks;      /* B: bytes allocated and freed so far; ms: events so far */
static uint64_t next_check; /* ticks at which a normal snapshot may be due */
static uint64_t peak_trigger;
static uint64_t max_total, max_heap, max_extra; /* the exact maximum, seen before each free */

#define CPAGE_BITS  16
#define CPAGE_SLOTS (1u << CPAGE_BITS)
#define NCPAGES     ((1u << MW__PROF_TRACE_BITS) >> CPAGE_BITS)
static uint64_t *cpages[NCPAGES]; /* live bytes per trace id, mapped as ids appear */
static uint64_t lost_cell;        /* where counts go when a page cannot be mapped */

/* ---- snapshots (under plock) -------------------------------------------------------------- */
struct snap {
    mw__prof_snap_t h;
    mw__prof_site_t *sites;
    size_t map_len;
    int used; /* 0: culled, until the survivors slide down */
};

static mw__lock_t plock;
static struct snap *snaps;
static uint32_t nsnaps, since_detailed;
static uint64_t min_interval, earliest;
static uint64_t peak_total; /* heap + extra of the peak snapshot */
static mw__prof_site_t *scratch;
static size_t scratch_cap; /* entries */
static struct timespec t0;
static uint64_t rate_ticks, rate_us; /* the events and time at the previous clock read (ms) */

static inline uint64_t get(const uint64_t *v)
{
    return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static inline void put(uint64_t *v, uint64_t x)
{
    __atomic_store_n(v, x, __ATOMIC_RELAXED);
}

/* Adds d (unsigned: a negative change wraps) and returns the new value; atomic once another
 * thread may exist. */
static inline uint64_t add(uint64_t *v, uint64_t d)
{
    if (!mw__leak_mt)
        return *v += d;
    return __atomic_add_fetch(v, d, __ATOMIC_RELAXED);
}

static inline uint64_t extra_of(uint64_t size)
{
    return admin + (((size + 15) & ~(uint64_t)15) - size);
}

static uint64_t *cpage_new(uint32_t page)
{
    uint64_t *pg;

    mw__lock_always(&plock);
    pg = cpages[page];
    if (!pg) {
        pg = mw__leak_map(CPAGE_SLOTS * sizeof(uint64_t));
        if (pg)
            __atomic_store_n(&cpages[page], pg, __ATOMIC_RELEASE);
    }
    mw__unlock_always(&plock);
    return pg;
}

static inline uint64_t *cell(uint32_t trace)
{
    uint64_t *pg = __atomic_load_n(&cpages[trace >> CPAGE_BITS], __ATOMIC_ACQUIRE);

    if (__builtin_expect(!pg, 0)) {
        pg = cpage_new(trace >> CPAGE_BITS);
        if (!pg)
            return &lost_cell;
    }
    return &pg[trace & (CPAGE_SLOTS - 1)];
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)(ts.tv_sec - t0.tv_sec) * 1000000u + (uint64_t)ts.tv_nsec / 1000u -
           (uint64_t)t0.tv_nsec / 1000u;
}

/* ---- taking and culling snapshots ------------------------------------------------------- */
/* The sites' memory: a peak snapshot replaces the previous one at every 1 % of growth, hundreds
 * of times in a growing program; their mappings are kept for reuse rather than unmapped and
 * mapped again (two system calls and fresh pages each time). */
#define POOL 16
static struct {
    void *p;
    size_t len;
} pool[POOL];

/* At least *len bytes; *len becomes the mapping's length. */
static void *sites_map(size_t *len)
{
    unsigned i;

    for (i = 0; i < POOL; i++)
        if (pool[i].p && pool[i].len >= *len && pool[i].len / 4 <= *len) {
            void *p = pool[i].p;
            pool[i].p = NULL;
            *len = pool[i].len;
            return p;
        }
    return mw__leak_map(*len);
}

static void sites_unmap(void *p, size_t len)
{
    unsigned i;

    for (i = 0; i < POOL; i++)
        if (!pool[i].p) {
            pool[i].p = p;
            pool[i].len = len;
            return;
        }
    mw__leak_unmap(p, len);
}

static void drop(struct snap *s)
{
    if (s->sites)
        sites_unmap(s->sites, s->map_len);
    memset(s, 0, sizeof *s);
}

/* The live bytes of every stack into s (a stack that holds none is left out). */
static void detail(struct snap *s)
{
    uint32_t n = mw__traces_count(), page, i, k = 0;
    uint64_t sum = 0;
    size_t len;

    if (scratch_cap < n) {
        size_t cap = scratch_cap ? scratch_cap : 4096;
        while (cap < n)
            cap *= 2;
        if (scratch)
            mw__leak_unmap(scratch, scratch_cap * sizeof *scratch);
        scratch = mw__leak_map(cap * sizeof *scratch);
        scratch_cap = scratch ? cap : 0;
        if (!scratch)
            return;
    }
    for (page = 0; page <= (n - 1) >> CPAGE_BITS && page < NCPAGES; page++) {
        const uint64_t *pg = __atomic_load_n(&cpages[page], __ATOMIC_ACQUIRE);
        if (!pg)
            continue;
        for (i = 0; i < CPAGE_SLOTS && ((page << CPAGE_BITS) | i) < n; i++) {
            uint64_t v = get(&pg[i]);
            if (!v)
                continue;
            scratch[k].trace = (page << CPAGE_BITS) | i;
            scratch[k].pad = 0;
            scratch[k].bytes = v;
            sum += v;
            k++;
        }
    }
    len = ((size_t)k * sizeof *scratch + 4095) & ~(size_t)4095;
    if (k) {
        s->sites = sites_map(&len); /* a reused mapping may be larger than asked */
        if (!s->sites)
            return;
        memcpy(s->sites, scratch, (size_t)k * sizeof *scratch);
        s->map_len = len;
    }
    s->h.ndetail = k;
    s->h.flags |= MW__PROF_SITES;
    s->h.heap = sum; /* with other threads running, the sites' sum is the consistent figure */
}

static int uncullable(uint32_t i)
{
    return i == 0 || i == nsnaps - 1 || (snaps[i].h.flags & MW__PROF_PEAK);
}

/* The next snapshot in use after i, or nsnaps. */
static uint32_t next_used(uint32_t i)
{
    for (i++; i < nsnaps && !snaps[i].used; i++)
        ;
    return i;
}

/* Removes half the snapshots, each time the one spanning the least time between its neighbours
 * (never the first, the last or the peak); returns the smallest gap left between two
 * snapshots, gaps between two uncullable ones aside. */
static uint64_t cull(void)
{
    uint32_t round, i, n;
    uint64_t best_span;

    for (round = 0; round < max_snaps / 2; round++) {
        uint32_t prev = 0, j = next_used(0), next, best = UINT32_MAX;
        best_span = UINT64_MAX;
        while (j < nsnaps && (next = next_used(j)) < nsnaps) {
            uint64_t span = snaps[next].h.time - snaps[prev].h.time;
            if (!(snaps[j].h.flags & MW__PROF_PEAK) && span < best_span) {
                best_span = span;
                best = j;
            }
            prev = j;
            j = next;
        }
        if (best == UINT32_MAX)
            break;
        drop(&snaps[best]);
    }
    for (i = 0, n = 0; i < nsnaps; i++) {
        if (!snaps[i].used)
            continue;
        if (n != i)
            snaps[n] = snaps[i];
        n++;
    }
    for (i = n; i < nsnaps; i++)
        memset(&snaps[i], 0, sizeof snaps[i]);
    nsnaps = n;
    best_span = UINT64_MAX;
    for (i = 1; i < nsnaps; i++) {
        uint64_t span = snaps[i].h.time - snaps[i - 1].h.time;
        if (uncullable(i) && uncullable(i - 1))
            continue;
        if (span < best_span)
            best_span = span;
    }
    return best_span == UINT64_MAX ? 0 : best_span;
}

/* The clock, in the unit's internal measure: B as counted, ms in microseconds. */
static uint64_t clock_now(void)
{
    return unit_ms ? now_us() : get(&ticks);
}

/* Arms the next check of the hot path after a snapshot (or a look at the clock) at time now. */
static void arm(uint64_t now)
{
    uint64_t t = get(&ticks), stride = 1;

    if (!unit_ms) {
        put(&next_check, earliest);
        return;
    }
    /* ms: as many events as the recent rate says fit in half the wait, at most 65,536. */
    if (earliest > now && now > rate_us && t > rate_ticks) {
        uint64_t wait = (earliest - now) / 2, per = now - rate_us, ev = t - rate_ticks;
        stride = wait / per * ev + (wait % per) * ev / per;
        if (stride < 1)
            stride = 1;
        if (stride > 65536)
            stride = 65536;
    }
    rate_ticks = t;
    rate_us = now;
    put(&next_check, t + stride);
}

/* Takes a snapshot at time now; peak: massif's peak snapshot (always detailed). */
static void take(int peak, uint64_t now, int detailed)
{
    struct snap *s = &snaps[nsnaps];
    uint32_t i;

    memset(s, 0, sizeof *s);
    s->used = 1;
    s->h.time = now;
    s->h.heap = get(&heap_b);
    s->h.extra = get(&extra_b);
    if (detailed || all_sites)
        detail(s);
    if (detailed && (s->h.flags & MW__PROF_SITES))
        s->h.flags |= MW__PROF_DETAILED;
    since_detailed = detailed ? 0 : since_detailed + 1;
    if (peak) {
        for (i = 0; i < nsnaps; i++)
            snaps[i].h.flags &= ~MW__PROF_PEAK; /* the old peak stays, as a detailed one */
        s->h.flags |= MW__PROF_PEAK;
        peak_total = s->h.heap + s->h.extra;
        /* peak_total * (1 + peak_milli / 100,000), without overflow */
        peak_trigger = peak_total + peak_total / 100000 * peak_milli +
                       peak_total % 100000 * peak_milli / 100000;
    }
    nsnaps++;
    if (nsnaps == max_snaps)
        min_interval = cull();
    earliest = now + min_interval;
}

/* The hot path found a normal snapshot may be due. */
__attribute__((noinline)) static void normal_due(void)
{
    uint64_t now;

    mw__lock(&plock);
    if (!snaps || get(&ticks) < get(&next_check)) {
        mw__unlock(&plock);
        return; /* another thread took it */
    }
    now = clock_now();
    if (now >= earliest)
        take(0, now, since_detailed + 1 >= detailed_freq);
    arm(now);
    mw__unlock(&plock);
}

/* Before a free: the heap is at a local maximum. */
__attribute__((noinline)) static void at_maximum(uint64_t heap, uint64_t extra)
{
    mw__lock(&plock);
    if (heap + extra > max_total) {
        put(&max_total, heap + extra);
        max_heap = heap;
        max_extra = extra;
    }
    if (snaps && get(&heap_b) + get(&extra_b) > peak_trigger) {
        uint64_t now = clock_now();
        take(1, now, 1);
        arm(now);
    }
    mw__unlock(&plock);
}

static inline void before_free(void)
{
    uint64_t heap = get(&heap_b), extra = get(&extra_b);

    if (__builtin_expect(heap + extra > get(&max_total), 0))
        at_maximum(heap, extra);
}

static inline void tick(uint64_t bytes)
{
    if (__builtin_expect(add(&ticks, unit_ms ? 1 : bytes) >= get(&next_check), 0))
        normal_due();
}

/* ---- the events ---------------------------------------------------------------------------- */
static void count_alloc(uint64_t size, uint32_t trace)
{
    uint64_t ex = extra_of(size);

    add(cell(trace), size);
    add(&heap_b, size);
    add(&extra_b, ex);
    tick(size + ex);
}

static void count_free(uint64_t size, uint64_t meta)
{
    uint64_t ex = extra_of(size);

    if (meta >> MW__PROF_TRACE_BITS < start_seq)
        return; /* allocated before the profile started */
    before_free();
    add(cell((uint32_t)(meta & ((1u << MW__PROF_TRACE_BITS) - 1))), -size);
    add(&heap_b, -size);
    add(&extra_b, -ex);
    tick(size + ex);
}

static void count_realloc(uint64_t old_size, uint64_t old_meta, uint64_t size, uint32_t trace)
{
    uint64_t old_ex = extra_of(old_size), ex = extra_of(size), before, after;

    if (old_meta >> MW__PROF_TRACE_BITS < start_seq) {
        count_alloc(size, trace);
        return;
    }
    if (size < old_size)
        before_free(); /* a shrink is a free too: massif looks for a peak first */
    add(cell((uint32_t)(old_meta & ((1u << MW__PROF_TRACE_BITS) - 1))), -old_size);
    add(cell(trace), size);
    add(&heap_b, size - old_size);
    add(&extra_b, ex - old_ex);
    before = old_size + old_ex;
    after = size + ex;
    tick(after > before ? after - before : before - after);
}

/* A thread's events that wait for its batched frees (entry.c flushes them 32 at a time, their
 * headers loaded together): counted in their order when the batch is flushed, so the heap the
 * profile sees is the program's, event for event. */
#define LOG_CAP 128

enum { EV_ALLOC, EV_FREE, EV_REALLOC };

struct ev {
    uint64_t size, old_size, old_meta;
    uint32_t trace;
    uint16_t kind;
    uint16_t pos; /* the frees batched before it */
};

struct mw__prof_thread {
    uint32_t n, done;
    struct ev ev[LOG_CAP];
};

static void replay(const struct ev *e)
{
    if (e->kind == EV_ALLOC)
        count_alloc(e->size, e->trace);
    else if (e->kind == EV_FREE)
        count_free(e->size, e->old_meta);
    else
        count_realloc(e->old_size, e->old_meta, e->size, e->trace);
}

/* Keeps the event for later when t has frees batched; 0 when it must count now. */
static int wait_for_batch(struct mw__leak_thread *t, const struct ev *e)
{
    struct mw__prof_thread *pt = t->prof;

    if (!t->ndefer)
        return 0;
    if (!pt) {
        pt = t->prof = mw__leak_map(sizeof *pt);
        if (!pt)
            return 0;
    }
    if (pt->n == LOG_CAP) {
        mw__leak_flush(t, t, 1); /* counts everything waiting, then this one */
        return 0;
    }
    pt->ev[pt->n] = *e;
    pt->ev[pt->n].pos = (uint16_t)t->ndefer;
    if (pt->done == pt->n)
        t->prof_due = t->ndefer + 1u;
    pt->n++;
    return 1;
}

void mw__prof_flush(struct mw__leak_thread *t, unsigned i)
{
    struct mw__prof_thread *pt = t->prof;

    if (!pt)
        return;
    while (pt->done < pt->n && pt->ev[pt->done].pos <= i)
        replay(&pt->ev[pt->done++]);
    if (pt->done == pt->n)
        pt->done = pt->n = 0;
    t->prof_due = pt->done < pt->n ? pt->ev[pt->done].pos + 1u : 0;
}

/* ---- the hooks -------------------------------------------------------------------------- */
void mw__prof_alloc(struct mw__leak_thread *t, uint64_t size, uint32_t trace)
{
    struct ev e = {size, 0, 0, trace, EV_ALLOC, 0};

    if (!wait_for_batch(t, &e))
        count_alloc(size, trace);
}

void mw__prof_free(struct mw__leak_thread *t, uint64_t size, uint64_t meta)
{
    struct ev e = {size, 0, meta, 0, EV_FREE, 0};

    if (!wait_for_batch(t, &e))
        count_free(size, meta);
}

void mw__prof_realloc(struct mw__leak_thread *t, uint64_t old_size, uint64_t old_meta,
                      uint64_t size, uint32_t trace)
{
    struct ev e = {size, old_size, old_meta, trace, EV_REALLOC, 0};

    if (!wait_for_batch(t, &e))
        count_realloc(old_size, old_meta, size, trace);
}

/* ---- start --------------------------------------------------------------------------------- */
/* Reads a number up to the next ':' or ','; *s moves past it. */
static uint64_t field(const char **s, uint64_t def)
{
    const char *end;
    uint64_t v;
    int r = mw__parse_dec(*s, &end, &v);

    if (r == -ERANGE) /* (absurd: as large as allowed) */
        v = 1ull << 40;
    else if (r < 0)
        v = def;
    while (**s >= '0' && **s <= '9')
        (*s)++;
    if (**s == ':')
        (*s)++;
    return v > (1ull << 40) ? 1ull << 40 : v;
}

void mw__prof_init(uint64_t next_seq)
{
    const char *l = mw__leak_env("MEMWALK_LAUNCH"), *h;
    const char *children;

    if (started || !l || (l[0] != '0' && l[0] != '1'))
        return;
    h = strstr(l, ",heap:");
    if (!h)
        return;
    /* A program executed by the profiled one is profiled only with --trace-children=yes. */
    children = strstr(l, ",yes,heap:");
    if (l[0] == '1' && children != h - 4)
        return;
    started = 1;
    h += 6;
    unit_ms = field(&h, 1) == MW__PROF_UNIT_MS;
    detailed_freq = (uint32_t)field(&h, 10);
    max_snaps = (uint32_t)field(&h, 100);
    peak_milli = (uint32_t)field(&h, 1000);
    admin = field(&h, 8);
    all_sites = field(&h, 0) != 0;
    if (detailed_freq < 1)
        detailed_freq = 1;
    if (max_snaps < 10 || max_snaps > 1000)
        max_snaps = 100;
    snaps = mw__leak_map((size_t)max_snaps * sizeof *snaps);
    if (!snaps) {
        mw__leak_log("out of memory for the heap profile: no profile");
        return;
    }
    start_seq = next_seq;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* massif's first snapshot: time 0, before any allocation of the profile. */
    take(0, 0, detailed_freq == 1);
    arm(0);
    __atomic_store_n(&mw__prof_on, 1, __ATOMIC_RELEASE);
}

/* ---- the stream, at exit -------------------------------------------------------------------- */
static void out(const void *p, size_t n)
{
    mw__wire_stream_put(p, n);
}

/* The lock at exit: a thread the exit could not stop may still be inside a hook; after a
 * second the profile goes out as it is rather than hang the exit. */
static int lock_for_exit(void)
{
    unsigned i;

    if (!mw__leak_mt)
        return 1;
    for (i = 0; i < 1000; i++) {
        if (!__atomic_exchange_n(&plock.v, 1, __ATOMIC_ACQUIRE))
            return 1;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static void write_stacks(const uint32_t *order, uint32_t n)
{
    uint32_t k;

    for (k = 0; k < n; k++) {
        unsigned depth, j;
        const uintptr_t *ips = mw__traces_get(order[k], &depth);
        uint32_t d[2] = {depth, 0};
        out(d, sizeof d);
        for (j = 0; j < depth; j++) {
            uint64_t ip = ips[j];
            out(&ip, sizeof ip);
        }
    }
}

void mw__prof_write(void)
{
    mw__prof_head_t h;
    uint32_t ntr = mw__traces_count(), *remap, *order, used = 0, i, k;
    size_t map_len;
    uint64_t heap, extra;
    int locked;

    if (!mw__prof_on)
        return;
    locked = lock_for_exit();
    __atomic_store_n(&mw__prof_on, 0, __ATOMIC_RELEASE);
    if (!locked) {
        mw__leak_log("a thread stayed inside the allocator at exit: no heap profile");
        return;
    }
    heap = get(&heap_b);
    extra = get(&extra_b);
    if (heap + extra > max_total) {
        max_total = heap + extra;
        max_heap = heap;
        max_extra = extra;
    }
    /* The stacks the detailed snapshots name, numbered in order of first use. */
    map_len = ((size_t)ntr + 1) * sizeof *remap * 2;
    remap = mw__leak_map(map_len);
    if (!remap) {
        mw__unlock_always(&plock);
        mw__leak_log("out of memory for the heap profile: no profile");
        return;
    }
    order = remap + ntr + 1;
    for (i = 0; i < nsnaps; i++)
        for (k = 0; k < snaps[i].h.ndetail; k++) {
            uint32_t t = snaps[i].sites[k].trace;
            if (t < ntr && !remap[t]) {
                order[used] = t;
                remap[t] = ++used;
            }
        }
    if (mw__wire_stream_open() < 0) {
        mw__leak_unmap(remap, map_len);
        mw__unlock_always(&plock);
        return;
    }
    memset(&h, 0, sizeof h);
    h.magic = MW__PROF_MAGIC;
    h.version = MW__PROF_VERSION;
    h.unit = unit_ms ? MW__PROF_UNIT_MS : MW__PROF_UNIT_B;
    h.nsnaps = nsnaps;
    h.ntraces = used;
    h.detailed_freq = detailed_freq;
    h.max_snapshots = max_snaps;
    h.peak_milli = peak_milli;
    h.heap_admin = admin;
    h.peak_heap = max_heap;
    h.peak_extra = max_extra;
    h.end_time = unit_ms ? now_us() / 1000 : get(&ticks);
    h.end_heap = heap;
    h.end_extra = extra;
    out(&h, sizeof h);
    write_stacks(order, used);
    for (i = 0; i < nsnaps; i++) {
        mw__prof_snap_t s = snaps[i].h;
        if (unit_ms)
            s.time /= 1000;
        out(&s, sizeof s);
        for (k = 0; k < s.ndetail; k++) {
            mw__prof_site_t site = snaps[i].sites[k];
            site.trace = remap[site.trace] - 1;
            out(&site, sizeof site);
        }
    }
    mw__wire_stream_close();
    mw__leak_unmap(remap, map_len);
    mw__unlock_always(&plock);
}
