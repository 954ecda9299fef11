/* Marking: the mark stacks, the word loop that tests candidate pointers, parallel marking with
 * helper threads that steal from each other's stacks, the roots, and the recovery from a
 * mark-stack overflow (rescan of the marked objects). */
#include "gc/gc_internal.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "scan/scan.h"

#define INITIAL_STACK 4096 /* entries */
#define MAX_MARKERS   256

/* Makes room in s for at least one more entry. Returns 0, or -1 when the stack may not grow
 * (MEMWALK_GC_MARK_STACK, or no memory): the caller then drops an object's entry (the object
 * stays marked), sets overflowed, and the overflow pass rescans. */
static int stack_grow(struct mw__gc_vec *s)
{
    size_t want = s->cap ? s->cap * 2 : INITIAL_STACK;
    size_t max = mw__gc.opt.mark_stack;

    if (max) {
        if (s->cap >= max)
            return -1;
        if (want > max)
            want = max;
    }
    if (mw__gc_vec_reserve(s, sizeof(struct mw__gc_mse), want) < 0)
        return -1;
    if (max && s->cap > max)
        s->cap = max; /* the mapping may round up: honour the limit exactly */
    return 0;
}

static void overflow(void)
{
    __atomic_store_n(&mw__gc.overflowed, 1, __ATOMIC_RELAXED);
}

static void push(uintptr_t lo, uintptr_t hi)
{
    struct mw__gc_vec *s = &mw__gc.mark_stack;

    if (s->len == s->cap && stack_grow(s) < 0) {
        overflow();
        return;
    }
    MW__GC_VEC_AT(s, struct mw__gc_mse, s->len).lo = lo;
    MW__GC_VEC_AT(s, struct mw__gc_mse, s->len).hi = hi;
    s->len++;
}

/* Pushes a root range (word-aligned inward). A root range is not an object the overflow pass
 * would find again, so it is never dropped: a full stack is drained first. */
static void push_root(uintptr_t lo, uintptr_t hi)
{
    struct mw__gc_vec *s = &mw__gc.mark_stack;

    lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
    hi &= ~(uintptr_t)(sizeof(uintptr_t) - 1);
    if (lo >= hi)
        return;
    if (s->len == s->cap && stack_grow(s) < 0) {
        mw__gc_mark_drain();
        if (!s->cap)
            mw__gc_fatal("out of memory for the mark stack");
    }
    push(lo, hi);
}

/* ---- the parallel phase's bookkeeping ------------------------------------------------------- */

#define ST_JOINED ((uint64_t)1)
#define ST_IDLE   ((uint64_t)1 << 16)
#define ST_DONE   ((uint64_t)1 << 32)
#define ST_COUNT  ((uint64_t)0xffff)

static inline unsigned st_joined(uint64_t s)
{
    return (unsigned)(s & ST_COUNT);
}

static inline unsigned st_idle(uint64_t s)
{
    return (unsigned)((s >> 16) & ST_COUNT);
}

static void cpu_relax(unsigned *spins)
{
    /* Spin a little, then give the CPU away: the machine may have fewer free cores than markers,
     * and a marker that holds a lock must get to run. */
    if (++*spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ volatile("yield");
#endif
    } else {
        sched_yield();
    }
}

static void marker_lock(struct mw__gc_marker *m)
{
    unsigned spins = 0;

    while (__atomic_exchange_n(&m->lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&m->lock, __ATOMIC_RELAXED))
            cpu_relax(&spins);
}

static void marker_unlock(struct mw__gc_marker *m)
{
    __atomic_store_n(&m->lock, 0, __ATOMIC_RELEASE);
}

static long futex(uint32_t *addr, int op, uint32_t val)
{
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

/* Tells idle markers asleep in idle_wait that there is something to look at. */
static void wake_idle(void)
{
    /* Sequentially consistent with idle_wait's: either the sleeper sees the new count, or this
     * sees the sleeper. */
    __atomic_add_fetch(&mw__gc.mk.work, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&mw__gc.mk.sleepers, __ATOMIC_SEQ_CST))
        futex(&mw__gc.mk.work, FUTEX_WAKE_PRIVATE, INT32_MAX);
}

/* ---- the mark loop -------------------------------------------------------------------------- */

/* Every candidate word that fell inside the heap's address range [heap_lo, heap_hi) but on no
 * allocated object ends here (a window of the range no chunk covers, a free page, a chunk header,
 * the unused tail of a block, a free slot, outside a huge object): the one place for a policy on
 * false pointers. It runs in every marker at once during a parallel phase. */
static inline __attribute__((always_inline)) void candidate_miss(uintptr_t value)
{
    (void)value;
}

/* A candidate in a huge mapping: marks it; returns 1 when this call marked it. Out of line:
 * rare, and the mark loop stays small. */
static inline __attribute__((always_inline)) int mark_huge_(uintptr_t e, uintptr_t v, const int par)
{
    struct mw__gc_chunk *c = (struct mw__gc_chunk *)(e & ~(MW__GC_CHUNK - 1));

    /* a freed mapping kept reserved, or past the first page of an ignore-off-page object: the
     * same test (and black-listing) in every marker */
    if (!mw__gc_huge_hit(c, v)) {
        candidate_miss(v);
        return 0;
    }
    if (par)
        return !(__atomic_load_n(&c->bits[4], __ATOMIC_RELAXED) & 1) &&
               !(__atomic_fetch_or(&c->bits[4], 1, __ATOMIC_RELAXED) & 1);
    if (c->bits[4] & 1)
        return 0;
    c->bits[4] |= 1;
    return 1;
}

static int __attribute__((noinline)) mark_huge(uintptr_t e, uintptr_t v)
{
    return mark_huge_(e, v, 0);
}

static int __attribute__((noinline)) mark_huge_par(uintptr_t e, uintptr_t v)
{
    return mark_huge_(e, v, 1);
}

#define RING 32 /* objects in flight between their prefetch and their scan */
#define CAND 8  /* candidate pointers between the prefetch of their descriptor and their test */

/* The mark stack as the drain loop holds it, in registers. In a parallel phase the entries
 * below the marker's split are public, and top never goes below split. */
struct drain {
    struct mw__gc_vec *s;
    struct mw__gc_mse *st;
    size_t top, cap;
    uint64_t marked;
};

/* A parallel phase's stack is full: the slots below head that other markers emptied are
 * reclaimed when they are many (or when the stack may not grow). Returns 0, or -1 when the
 * entry must be dropped. */
static int __attribute__((noinline)) make_room_par(struct drain *d, struct mw__gc_marker *mk)
{
    size_t head;
    int r = 0;

    marker_lock(mk);
    head = mk->head;
    if (head < d->cap / 4 && stack_grow(d->s) == 0) {
        d->st = d->s->data;
        d->cap = d->s->cap;
    } else if (head > 0) {
        memmove(d->st, d->st + head, (d->top - head) * sizeof *d->st);
        d->top -= head;
        __atomic_store_n(&mk->split, mk->split - head, __ATOMIC_RELAXED);
        __atomic_store_n(&mk->head, 0, __ATOMIC_RELAXED);
    } else {
        overflow();
        r = -1;
    }
    marker_unlock(mk);
    return r;
}

static inline __attribute__((always_inline)) void
push_obj(struct drain *d, struct mw__gc_marker *mk, uintptr_t lo, uintptr_t hi, const int par)
{
    if (MW__GC_UNLIKELY(d->top == d->cap)) {
        if (par) {
            if (make_room_par(d, mk) < 0)
                return; /* dropped: the object is marked, the overflow pass rescans it */
        } else {
            /* d does not escape here: the single-threaded loop keeps it in registers */
            d->s->len = d->top;
            if (stack_grow(d->s) < 0) {
                overflow();
                return;
            }
            d->st = d->s->data;
            d->cap = d->s->cap;
        }
    }
    mw__assert(lo <= hi && d->top < d->cap);
    d->st[d->top].lo = lo;
    d->st[d->top].hi = hi;
    d->top++;
}

/* Marks the object that v points into, in normal chunk n, and queues it for
 * scanning. In a parallel phase the mark bit is set atomically: the marker that sets it scans. */
static inline __attribute__((always_inline)) void mark_small(struct drain *d,
                                                             struct mw__gc_marker *mk, uintptr_t v,
                                                             struct mw__gc_normal *n, const int par)
{
    const struct mw__gc_pd *pd = &n->pd[mw__gc_page_of(v)];
    uintptr_t base, start;
    uint64_t *w, m;
    unsigned slot;

    if (pd->kind < MW__GC_SMALL) {
        if (pd->kind == MW__GC_FREE)
            mw__gc_black_list(n, v); /* atomic: several markers may store the same epoch */
        candidate_miss(v);
        return;
    }
    base = mw__gc_block_addr(n, pd->head);
    slot = (unsigned)(((uint64_t)(v - base) * pd->recip) >> 32);
    if (slot >= pd->nslots) {
        candidate_miss(v);
        return;
    }
    w = mw__gc_group(n, pd->head, slot >> 6);
    m = (uint64_t)1 << (slot & 63);
    if (!(w[0] & m) || (par ? __atomic_load_n(&w[4], __ATOMIC_RELAXED) : w[4]) & m) {
        if (!(w[0] & m))
            candidate_miss(v);
        return;
    }
    if (par) {
        if (__atomic_fetch_or(&w[4], m, __ATOMIC_RELAXED) & m)
            return; /* another marker set it first: it scans the object */
    } else {
        w[4] |= m;
    }
    d->marked += pd->size;
    if (pd->flags & MW__GC_ATOMIC)
        return;
    start = base + (uintptr_t)slot * pd->size;
    mw__assert(v >= start && v - start < pd->size); /* the reciprocal found v's own slot */
    push_obj(d, mk, start, start + pd->size, par);
}

/* Publishes the older half of this marker's own entries (or the upper half of its only entry, a
 * long range) for idle markers to take. */
static void __attribute__((noinline)) publish(struct drain *d, struct mw__gc_marker *mk)
{
    marker_lock(mk);
    if (mk->head == mk->split) {
        size_t split = mk->split, own = d->top - split;
        if (own == 1 && d->top < d->cap) {
            struct mw__gc_mse e = d->st[split];
            uintptr_t mid = e.lo + ((e.hi - e.lo) / 2 & ~(uintptr_t)(MW__GC_SCAN_SLICE - 1));
            if (mid > e.lo && mid < e.hi) {
                d->st[split].lo = mid; /* the public upper half */
                d->st[split + 1].lo = e.lo;
                d->st[split + 1].hi = mid;
                d->top++;
                own = 2;
            }
        }
        if (own >= 2)
            __atomic_store_n(&mk->split, split + own / 2, __ATOMIC_RELAXED);
    }
    marker_unlock(mk);
    wake_idle();
}

/* Whether this marker should publish some of its entries now that markers are idle: it has
 * none public, and two entries or one long range of its own. */
static inline int publishable(const struct drain *d, const struct mw__gc_marker *mk)
{
    size_t split, own;

    if (!mk)
        return 0;
    split = mk->split;
    own = d->top - split;
    return own && __atomic_load_n(&mk->head, __ATOMIC_RELAXED) == split &&
           (own >= 2 || d->st[split].hi - d->st[split].lo >= 2 * MW__GC_SCAN_SLICE);
}

/* Scans until the stack (its own part, in a parallel phase), the ring and the pending
 * candidates are all empty. One body for both cases: with par a constant 0 the compiler leaves
 * out every parallel branch. */
static inline __attribute__((always_inline)) void
drain_loop(struct drain *d, struct mw__gc_marker *mk, const int par)
{
    /* Two scalar arrays, not an array of pairs: a pair copied with one 16-byte load would not
     * be forwarded from the two 8-byte stores that pushed it, and stall. */
    uintptr_t ring_lo[RING], ring_hi[RING], cand_v[CAND];
    struct mw__gc_normal *cand_n[CAND];
    unsigned rh = 0, rn = 0, ch = 0, cn = 0;
    const uintptr_t lo = mw__gc.heap_lo, span = mw__gc.heap_hi - mw__gc.heap_lo;

    for (;;) {
        uintptr_t p, end;

        if (par && MW__GC_UNLIKELY(st_idle(__atomic_load_n(&mw__gc.mk.state, __ATOMIC_RELAXED))) &&
            publishable(d, mk))
            publish(d, mk);
        /* Move objects from the stack to the ring, prefetching each: by the time one is
         * scanned, RING - 1 others were, and its cache lines have had time to arrive. */
        while (rn < RING && d->top != (par ? mk->split : 0)) {
            unsigned i = (rh + rn) & (RING - 1);
            uintptr_t elo, ehi;
            d->top--;
            elo = d->st[d->top].lo;
            ehi = d->st[d->top].hi;
            if (ehi - elo > MW__GC_SCAN_SLICE) {
                /* A slice now, the rest back on the stack: the stack stays shallow. */
                d->st[d->top].lo = elo + MW__GC_SCAN_SLICE;
                d->top++;
                ehi = elo + MW__GC_SCAN_SLICE;
            }
            __builtin_prefetch((const void *)elo);
            ring_lo[i] = elo;
            ring_hi[i] = ehi;
            rn++;
        }
        if (!rn) {
            if (!cn)
                break;
            /* Nothing left to scan: test the pending candidates (they may push more). */
            while (cn) {
                mark_small(d, mk, cand_v[ch], cand_n[ch], par);
                ch = (ch + 1) & (CAND - 1);
                cn--;
            }
            continue;
        }
        p = ring_lo[rh];
        end = ring_hi[rh];
        rh = (rh + 1) & (RING - 1);
        rn--;
        for (; p < end; p += sizeof(uintptr_t)) {
            uintptr_t v = *(const uintptr_t *)p, e;
            struct mw__gc_normal *n;

            if (v - lo >= span)
                continue;
            e = mw__gc_entry(v);
            if (!e) {
                candidate_miss(v);
                continue;
            }
            if (MW__GC_UNLIKELY(e & MW__GC_ENTRY_HUGE)) {
                struct mw__gc_chunk *c = (struct mw__gc_chunk *)(e & ~(MW__GC_CHUNK - 1));
                if (par ? mark_huge_par(e, v) : mark_huge(e, v)) {
                    d->marked += c->obj_size;
                    if (!(c->flags & MW__GC_ATOMIC))
                        push_obj(d, mk, c->obj, c->obj + c->obj_size, par);
                }
                continue;
            }
            /* Its descriptor is fetched now and tested CAND candidates later, so that the
             * misses of several candidates overlap. */
            n = (struct mw__gc_normal *)e;
            __builtin_prefetch(&n->pd[mw__gc_page_of(v)]);
            if (cn == CAND) {
                mark_small(d, mk, cand_v[ch], cand_n[ch], par);
                cand_v[ch] = v;
                cand_n[ch] = n;
                ch = (ch + 1) & (CAND - 1);
            } else {
                cand_v[(ch + cn) & (CAND - 1)] = v;
                cand_n[(ch + cn) & (CAND - 1)] = n;
                cn++;
            }
        }
    }
}

void mw__gc_mark_drain(void)
{
    struct drain d = {&mw__gc.mark_stack, mw__gc.mark_stack.data, mw__gc.mark_stack.len,
                      mw__gc.mark_stack.cap, 0};

    drain_loop(&d, NULL, 0);
    d.s->len = 0;
    mw__gc.marked_bytes += d.marked;
}

static void __attribute__((noinline)) drain_par(struct drain *d, struct mw__gc_marker *mk)
{
    drain_loop(d, mk, 1);
}

/* ---- parallel marking ----------------------------------------------------------------------- */

/* Its own part ran out: takes back half of its public entries. Returns 0 when it had none (the
 * stack is then empty, and reset). */
static int take_back(struct drain *d, struct mw__gc_marker *mk)
{
    size_t head, split;
    int r = 1;

    marker_lock(mk);
    head = mk->head;
    split = mk->split;
    if (head < split) {
        split -= (split - head + 1) / 2;
    } else {
        d->top = split = 0;
        __atomic_store_n(&mk->head, 0, __ATOMIC_RELAXED);
        r = 0;
    }
    __atomic_store_n(&mk->split, split, __ATOMIC_RELAXED);
    marker_unlock(mk);
    return r;
}

/* Takes half of victim v's public entries into d's empty stack. Returns how many. */
static size_t steal(struct drain *d, struct mw__gc_marker *v)
{
    size_t head, n, k = 0;

    marker_lock(v);
    head = v->head;
    n = v->split - head;
    if (n) {
        k = (n + 1) / 2;
        if (k > d->cap)
            k = d->cap;
        memcpy(d->st, (struct mw__gc_mse *)v->stack->data + head, k * sizeof *d->st);
        __atomic_store_n(&v->head, head + k, __ATOMIC_RELAXED);
    }
    marker_unlock(v);
    d->top = k;
    return k;
}

/* A marker with public entries, found without locking (a hint), or NULL. */
static struct mw__gc_marker *find_victim(unsigned self)
{
    unsigned i, n = mw__gc.mk.n;

    for (i = 1; i < n; i++) {
        struct mw__gc_marker *v = &mw__gc.mk.m[(self + i) % n];
        if (__atomic_load_n(&v->split, __ATOMIC_RELAXED) >
            __atomic_load_n(&v->head, __ATOMIC_RELAXED))
            return v;
    }
    return NULL;
}

/* The phase is over when every marker in it is idle at once: none then holds an entry, and only
 * a marker that holds entries makes new ones. */
static void go_idle(void)
{
    uint64_t s = __atomic_add_fetch(&mw__gc.mk.state, ST_IDLE, __ATOMIC_ACQ_REL);

    while (st_idle(s) == st_joined(s) && !(s & ST_DONE))
        if (__atomic_compare_exchange_n(&mw__gc.mk.state, &s, s | ST_DONE, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            wake_idle();
            break;
        }
}

/* An idle marker found nothing to steal: spins a little (work often comes back within
 * microseconds), then sleeps until entries are published or the phase ends, so that markers
 * without work leave the CPUs to those with some. seen is the work count it last looked at. */
static void idle_wait(unsigned *spins, uint32_t seen)
{
    static const struct timespec ms = {0, 1000000};

    if (++*spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ volatile("yield");
#endif
        return;
    }
    __atomic_add_fetch(&mw__gc.mk.sleepers, 1, __ATOMIC_SEQ_CST);
    /* Every publication and the end wake sleepers; the timeout is only a safety net. */
    syscall(SYS_futex, &mw__gc.mk.work, FUTEX_WAIT_PRIVATE, seen, &ms, NULL, 0);
    __atomic_sub_fetch(&mw__gc.mk.sleepers, 1, __ATOMIC_ACQ_REL);
}

/* Adds delta to the state unless the phase is over; returns 0 when it is. */
static int state_add(uint64_t delta)
{
    uint64_t s = __atomic_load_n(&mw__gc.mk.state, __ATOMIC_ACQUIRE);

    do {
        if (s & ST_DONE)
            return 0;
    } while (!__atomic_compare_exchange_n(&mw__gc.mk.state, &s, s + delta, 0, __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    return 1;
}

/* One marker's part of a phase: scan its own entries, take back its public ones, steal others',
 * until the phase is over. */
static void marker_run(unsigned self)
{
    struct mw__gc_marker *mk = &mw__gc.mk.m[self];
    struct drain d = {mk->stack, mk->stack->data, mk->stack->len, mk->stack->cap, 0};

    for (;;) {
        unsigned spins = 0;

        drain_par(&d, mk);
        if (take_back(&d, mk))
            continue;
        go_idle();
        for (;;) {
            struct mw__gc_marker *v;
            uint32_t seen = __atomic_load_n(&mw__gc.mk.work, __ATOMIC_ACQUIRE);
            if (__atomic_load_n(&mw__gc.mk.state, __ATOMIC_ACQUIRE) & ST_DONE)
                goto out;
            v = find_victim(self);
            if (!v) {
                idle_wait(&spins, seen);
                continue;
            }
            if (!state_add((uint64_t)0 - ST_IDLE))
                goto out;
            if (steal(&d, v)) {
                __atomic_add_fetch(&mw__gc.mk.steals, 1, __ATOMIC_RELAXED);
                break;
            }
            go_idle();
        }
    }
out:
    mk->stack->len = 0;
    mk->marked += d.marked;
}

static void *helper_main(void *arg)
{
    unsigned self = (unsigned)(uintptr_t)arg;
    struct mw__gc_marker *mk = &mw__gc.mk.m[self];

    for (;;) {
        uint32_t g = __atomic_load_n(&mw__gc.mk.gen, __ATOMIC_ACQUIRE);
        if (g == mk->seen_gen) {
            futex(&mw__gc.mk.gen, FUTEX_WAIT_PRIVATE, g);
            continue;
        }
        mk->seen_gen = g;
        /* A helper that wakes after the phase ended just waits for the next. */
        if (!state_add(ST_JOINED))
            continue;
        marker_run(self);
        __atomic_add_fetch(&mw__gc.mk.left, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static unsigned cpus(void)
{
    cpu_set_t set;
    long n;

    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* The markers a collection may use, capped as mw__gc_markers_prepare caps them. */
static unsigned markers_wanted(void)
{
    unsigned n = mw__gc.opt.markers ? (unsigned)mw__gc.opt.markers : cpus();

    return n > MAX_MARKERS ? MAX_MARKERS : n;
}

unsigned mw_gc_get_markers(void)
{
    unsigned n;

    mw__gc_init();
    mw__gc_lock();
    /* Before the first collection set the table up, what it will ask for. */
    n = mw__gc.mk.n ? mw__gc.mk.n : markers_wanted();
    mw__gc_unlock();
    return n;
}

/* Sets up the markers' table the first time; starts the helpers a heap this big is worth. */
void mw__gc_markers_prepare(void)
{
    struct mw__gc_markers *k = &mw__gc.mk;
    sigset_t all, old;
    unsigned i;

    k->use = 0;
    if (!k->n) {
        unsigned n = markers_wanted();
        void *m;
        k->n = 1;
        if (n > 1) {
            m = mmap(NULL, n * sizeof *k->m, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
            if (m != MAP_FAILED) {
                k->m = m;
                k->n = n;
                k->m[0].stack = &mw__gc.mark_stack;
                for (i = 1; i < n; i++)
                    k->m[i].stack = &k->m[i].own;
            }
        }
    }
    /* Parallel only when the last collection found MEMWALK_GC_PARALLEL_MIN live bytes (16 MiB;
     * the heap's size before the first): below, waking the helpers and sharing the mark bits
     * between cores cost more than they save. Measured on 2 cores, medians of 5 against Boehm
     * GC: churn (5 MiB live) took 0.83x Boehm's time with 2 markers from a 4 MiB heap, 0.71x
     * with this rule; gcbench 0.84x, then 0.63x. */
    if (k->n <= 1 || (mw__gc.stats.collections ? mw__gc.stats.live_bytes : mw__gc_heap_bytes()) <
                         mw__gc.opt.parallel_min)
        return;
    if (k->started < k->n - 1) {
        /* Helpers take no signal: the program's handlers never run on them. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        for (i = k->started + 1; i < k->n; i++) {
            pthread_t t;
            k->m[i].seen_gen = __atomic_load_n(&k->gen, __ATOMIC_RELAXED);
            if ((!k->m[i].own.cap && stack_grow(&k->m[i].own) < 0) ||
                pthread_create(&t, NULL, helper_main, (void *)(uintptr_t)i) != 0) {
                /* No more threads to be had (limits, seccomp): mark with those there are,
                 * without trying again at every collection. */
                k->n = k->started + 1;
                break;
            }
            pthread_detach(t);
            k->started++;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (!k->started)
            return;
    }
    k->use = 1;
}

void mw__gc_markers_forget(void)
{
    struct mw__gc_markers *k = &mw__gc.mk;
    unsigned i;

    k->started = 0;
    k->use = 0;
    for (i = 0; k->m && i < k->n; i++) {
        k->m[i].lock = 0;
        k->m[i].head = k->m[i].split = 0;
        k->m[i].stack->len = 0;
    }
}

/* Marks from what the collecting thread's stack holds now, with the helpers when this collection
 * uses them. */
static void drain_all(void)
{
    struct mw__gc_markers *k = &mw__gc.mk;
    unsigned i, joined, spins = 0;

    if (!k->use || mw__gc.mark_stack.len == 0) {
        mw__gc_mark_drain();
        return;
    }
    for (i = 0; i < k->n; i++) {
        k->m[i].head = k->m[i].split = 0;
        k->m[i].marked = 0;
    }
    k->left = 0;
    k->phases++;
    __atomic_store_n(&k->state, ST_JOINED, __ATOMIC_RELEASE);
    __atomic_add_fetch(&k->gen, 1, __ATOMIC_RELEASE);
    futex(&k->gen, FUTEX_WAKE_PRIVATE, INT32_MAX);
    marker_run(0);
    /* No helper joins once the phase is over; wait for those in it to leave it. */
    joined = st_joined(__atomic_load_n(&k->state, __ATOMIC_ACQUIRE));
    while (__atomic_load_n(&k->left, __ATOMIC_ACQUIRE) < joined - 1)
        cpu_relax(&spins);
    for (i = 0; i < k->n; i++)
        mw__gc.marked_bytes += k->m[i].marked;
}

void mw__gc_push_root(uintptr_t lo, uintptr_t hi)
{
    push_root(lo, hi);
}

void mw__gc_mark_range(uintptr_t lo, uintptr_t hi)
{
    push_root(lo, hi);
    mw__gc_mark_drain();
}

int mw__gc_mark_object(uintptr_t v, int count)
{
    struct mw__gc_ref r;

    if (!mw__gc_find(v, &r) || (r.alloc[4] & r.mask))
        return 0;
    r.alloc[4] |= r.mask;
    if (count)
        mw__gc.marked_bytes += r.size;
    if (!r.atomic)
        push(r.start, r.start + r.size);
    return 1;
}

/* The slots cursors hold but have not handed out stay reserved: mark them (they are zero, so
 * there is nothing to scan, and they do not count as live). */
void mw__gc_mark_reserved(void)
{
    struct mw__gc_thread *t;
    unsigned k, c, i;

    for (t = mw__gc.threads; t; t = t->next)
        for (k = 0; k < MW__GC_KINDS; k++)
            for (c = 0; c < MW__GC_NCLASSES; c++) {
                struct mw__gc_cursor *cu = &t->cur[k][c];
                struct mw__gc_normal *n;
                unsigned h;
                if (!cu->block)
                    continue;
                n = mw__gc_chunk_of(cu->block);
                h = mw__gc_page_of(cu->block);
                for (i = 0; i < MW__GC_GROUPS; i++)
                    mw__gc_group(n, h, i)[4] |= cu->rest[i];
                if (cu->bits)
                    mw__gc_group(n, h, (unsigned)((cu->base - cu->block) / (64 * cu->size)))[4] |=
                        cu->bits;
            }
}

static void snapshot_cb(void *ctx, uintptr_t lo, uintptr_t hi, enum mw__root_kind kind,
                        const char *object)
{
    struct mw__gc_vec *v = ctx;

    (void)kind;
    (void)object;
    if (mw__gc_vec_reserve(v, sizeof(struct mw__gc_mse), v->len + 1) < 0)
        mw__gc_fatal("out of memory for the root table");
    MW__GC_VEC_AT(v, struct mw__gc_mse, v->len).lo = lo;
    MW__GC_VEC_AT(v, struct mw__gc_mse, v->len).hi = hi;
    v->len++;
}

void mw__gc_roots_snapshot(void)
{
#if defined(MW_GC_EXPLICIT_ROOTS)
    mw__gc.snapshot.len = 0;
    return;
#endif
    /* The collector's globals hold free lists and tables: never roots. */
    mw__range_t skip = {(uintptr_t)&mw__gc, (uintptr_t)(&mw__gc + 1)};

    mw__gc.snapshot.len = 0;
    mw__scan_data_roots(snapshot_cb, &mw__gc.snapshot, &skip, 1);
    mw__scan_tls_roots(snapshot_cb, &mw__gc.snapshot);
}

struct stack_ctx {
    struct mw__gc_thread *self;
};

static void mark_own_stack(void *ctx, uintptr_t sp)
{
    struct stack_ctx *sc = ctx;

    mw__gc_mark_stack(sc->self, sc->self->entry_sp ? sc->self->entry_sp : sp);
    /* Inside this call, while the registers spilled above sp stay put: mark everything. */
    drain_all();
}

/* Pushes every root, then marks from them all at once (in parallel when the collection uses
 * helpers). */
void mw__gc_mark_roots(struct mw__gc_thread *self)
{
    struct mw__gc_thread *t;
    struct stack_ctx sc = {self};
    uintptr_t ulo, uhi;
    size_t i;
    int k;

    for (i = 0; i < mw__gc.snapshot.len; i++) {
        struct mw__gc_mse *r = &MW__GC_VEC_AT(&mw__gc.snapshot, struct mw__gc_mse, i);
        push_root(r->lo, r->hi);
    }
    for (i = 0; i < mw__gc.roots.len; i++) {
        struct mw__gc_mse *r = &MW__GC_VEC_AT(&mw__gc.roots, struct mw__gc_mse, i);
        push_root(r->lo, r->hi);
    }
    /* Uncollectable objects (finalize.c marks from them again, finding them marked). */
    mw__gc_uncollectable_range(&ulo, &uhi);
    push_root(ulo, uhi);
    /* What threads started by mw_gc_pthread_create returned, until they are joined. */
    if (mw__gc.exits.len)
        push_root((uintptr_t)mw__gc.exits.data,
                  (uintptr_t)mw__gc.exits.data + mw__gc.exits.len * sizeof(struct mw__gc_exit_rec));
    /* Objects whose finalizers are queued must survive until they ran. */
    for (i = mw__gc.fin_queue_head; i < mw__gc.fin_queue.len; i++)
        mw__gc_mark_object(MW__GC_VEC_AT(&mw__gc.fin_queue, struct mw__gc_fin, i).obj, 1);
#if defined(MW_GC_EXPLICIT_ROOTS)
    /* A build for sanitizers: the program's stacks and data are not roots, only what it added
     * with mw_gc_add_roots. */
    (void)t;
    (void)k;
    (void)sc;
    drain_all();
    return;
#endif
    for (t = mw__gc.threads; t; t = t->next) {
        if (t == self)
            continue;
        mw__gc_mark_stack(t, t->stop_sp);
        for (k = 0; k < t->tls_n; k++)
            push_root(t->tls_lo[k], t->tls_hi[k]);
    }
    mw__scan_with_registers(mark_own_stack, &sc);
}

/* Rescans every marked object after an overflow dropped some from the stack, until a whole pass
 * completes without one. */
void mw__gc_mark_finish_overflow(void)
{
    struct mw__gc_chunk *c;

    while (mw__gc.overflowed) {
        mw__gc.overflowed = 0;
        for (c = mw__gc.chunks; c; c = c->next) {
            struct mw__gc_normal *n = (struct mw__gc_normal *)c;
            unsigned p;

            if (c->kind == MW__GC_HUGE) {
                if ((c->bits[4] & 1) && !(c->flags & MW__GC_ATOMIC)) {
                    push(c->obj, c->obj + c->obj_size);
                    mw__gc_mark_drain();
                }
                continue;
            }
            for (p = c->first_page; p < MW__GC_CHUNK_PAGES; p = mw__gc_next_head(n, p)) {
                struct mw__gc_pd *pd = &n->pd[p];
                uintptr_t base = mw__gc_block_addr(n, p);
                unsigned s;
                if (pd->kind < MW__GC_SMALL || (pd->flags & MW__GC_ATOMIC))
                    continue;
                for (s = 0; s < pd->nslots; s++) {
                    if (!(mw__gc_group(n, p, s >> 6)[4] & ((uint64_t)1 << (s & 63))))
                        continue;
                    push(base + (uintptr_t)s * pd->size, base + (uintptr_t)(s + 1) * pd->size);
                    mw__gc_mark_drain();
                }
            }
        }
    }
}
