/* Lazy initialisation, the MEMWALK_GC_* environment options (one table) and the statistics
 * printed at exit. */
#include "gc/gc_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

struct mw__gc_state mw__gc;

enum opt_type { OPT_BOOL, OPT_SIZE, OPT_COUNT, OPT_SIGNAL };

struct opt_row {
    const char *name;
    enum opt_type type;
    uint64_t def, min, max;
    size_t offset; /* in struct mw__gc_options */
    int is_int;    /* field is an int (else uint64_t) */
};

#define ROW_I(n, t, d, lo, hi, f)                              \
    {                                                          \
        n, t, d, lo, hi, offsetof(struct mw__gc_options, f), 1 \
    }
#define ROW_U(n, t, d, lo, hi, f)                              \
    {                                                          \
        n, t, d, lo, hi, offsetof(struct mw__gc_options, f), 0 \
    }

static const struct opt_row rows[] = {
    ROW_I("MEMWALK_GC_STATS", OPT_BOOL, 0, 0, 1, stats),
    ROW_I("MEMWALK_GC_VERBOSE", OPT_BOOL, 0, 0, 1, verbose),
    ROW_U("MEMWALK_GC_GROWTH", OPT_COUNT, 60, 10, 10000, growth),
    ROW_U("MEMWALK_GC_MIN_ALLOC", OPT_SIZE, 1u << 20, 0, UINT64_C(1) << 40, min_alloc),
    ROW_U("MEMWALK_GC_SMALL_GROWTH", OPT_SIZE, 8u << 20, 0, UINT64_C(1) << 40, small_growth),
    ROW_U("MEMWALK_GC_MIN_HEAP", OPT_SIZE, 0, 0, UINT64_C(1) << 40, min_heap),
    ROW_U("MEMWALK_GC_MAX_HEAP", OPT_SIZE, 0, 0, UINT64_MAX, max_heap),
    ROW_U("MEMWALK_GC_UNMAP_AFTER", OPT_COUNT, 4, 0, 1000000, unmap_after),
    ROW_I("MEMWALK_GC_DISABLE", OPT_BOOL, 0, 0, 1, disable),
    ROW_U("MEMWALK_GC_MARK_STACK", OPT_COUNT, 0, 0, UINT64_C(1) << 40, mark_stack),
    ROW_U("MEMWALK_GC_IGNORE_OFF_PAGE", OPT_SIZE, 0, 0, UINT64_MAX, ignore_off_page),
    ROW_I("MEMWALK_GC_POISON", OPT_BOOL, 0, 0, 1, poison),
    ROW_I("MEMWALK_GC_CHECK", OPT_BOOL, 0, 0, 1, check),
    ROW_I("MEMWALK_GC_SIGNAL", OPT_SIGNAL, SIGPWR, 1, 64, signal),
    ROW_U("MEMWALK_GC_COLLECT_EVERY", OPT_COUNT, 0, 0, UINT64_C(1) << 40, collect_every),
    ROW_U("MEMWALK_GC_MARKERS", OPT_COUNT, 0, 0, 256, markers),
    ROW_U("MEMWALK_GC_PARALLEL_MIN", OPT_SIZE, 16u << 20, 0, UINT64_MAX, parallel_min),
    ROW_U("MEMWALK_GC_STOP_TIMEOUT", OPT_COUNT, 10, 1, 86400, stop_timeout),
};

static void set_field(struct mw__gc_options *o, const struct opt_row *r, uint64_t v)
{
    char *f = (char *)o + r->offset;

    if (r->is_int) {
        int i = (int)v;
        memcpy(f, &i, sizeof i);
    } else {
        memcpy(f, &v, sizeof v);
    }
}

void mw__gc_options_read(struct mw__gc_options *o)
{
    size_t i;

    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct opt_row *r = &rows[i];
        const char *s = getenv(r->name);
        uint64_t v = r->def;
        int err = 0;

        if (s && *s) {
            switch (r->type) {
            case OPT_BOOL:
                if (!strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "true"))
                    v = 1;
                else if (!strcmp(s, "0") || !strcmp(s, "no") || !strcmp(s, "false"))
                    v = 0;
                else
                    err = -EINVAL;
                break;
            case OPT_SIZE:
                err = mw__parse_size(s, &v);
                break;
            case OPT_COUNT:
            case OPT_SIGNAL:
                err = mw__parse_u64(s, &v);
                break;
            }
            if (!err && (v < r->min || v > r->max))
                err = -ERANGE;
            if (!err && r->type == OPT_SIGNAL && (v == SIGKILL || v == SIGSTOP || v == SIGSEGV))
                err = -EINVAL;
            if (err) {
                fprintf(stderr, "memwalk gc: %s=%s: %s; using %llu\n", r->name, s,
                        err == -ERANGE ? "out of range" : "not a valid value",
                        (unsigned long long)r->def);
                v = r->def;
            }
        }
        set_field(o, r, v);
    }
}

static void print_stats(void)
{
    mw_gc_stats_t s;
    char a[32], b[32], c[32], d[32], e[32];

    if (!mw__gc_self && mw__gc.ever_attached) {
        /* exit() from a thread that never registered: read without the thread check */
        s = mw__gc.stats;
        s.heap_bytes = mw__gc_heap_bytes();
    } else if (!mw__gc.ever_attached) {
        memset(&s, 0, sizeof s);
    } else {
        mw_gc_get_stats(&s);
    }
    fprintf(stderr,
            "memwalk gc: %llu collections, heap %s, live %s after the last, %s allocated, "
            "%s freed, %llu finalizers run\n"
            "memwalk gc: pauses: total %.3f ms, max %.3f ms; %s given back to the OS\n",
            (unsigned long long)s.collections, mw__format_bytes(s.heap_bytes, a, sizeof a),
            mw__format_bytes(s.live_bytes, b, sizeof b),
            mw__format_bytes(s.allocated_bytes, c, sizeof c),
            mw__format_bytes(s.freed_bytes, d, sizeof d), (unsigned long long)s.finalizers_run,
            (double)s.pause_total_ns / 1e6, (double)s.pause_max_ns / 1e6,
            mw__format_bytes(s.released_bytes, e, sizeof e));
}

static void init_once(void)
{
    mw__gc_options_read(&mw__gc.opt);
    if (mw__gc.opt.mark_stack && mw__gc.opt.mark_stack < 16)
        mw__gc.opt.mark_stack = 16;
    mw__gc_init_classes();
    mw__gc.fast_limit = mw__gc.opt.collect_every ? 0 : MW__GC_SMALL_MAX + 1;
    mw__gc_threads_init();
    mw__gc.threshold = MW__GC_MAX(mw__gc.opt.min_alloc, mw__gc.opt.min_heap);
    mw__heap_register("gc-heap", mw__gc_heap_contains); /* MW_SHOW names the collector's chunks */
    if (mw__gc.opt.stats)
        atexit(print_stats);
    __atomic_store_n(&mw__gc.inited, 1, __ATOMIC_RELEASE);
}

void mw__gc_init(void)
{
    if (!__atomic_load_n(&mw__gc.inited, __ATOMIC_ACQUIRE))
        pthread_once(&mw__gc.once, init_once);
}
