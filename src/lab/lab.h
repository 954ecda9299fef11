/* The lab: the memory experiments that `memwalk bench` and the tour run. Each measures one
 * lesson about allocation on this machine, returns every measured value in a plain struct, and
 * draws its conclusion from those values only. The module sits beside the benchmark harness
 * (src/bench), which it uses; the memwalk command and the tour call it, never the reverse. Names:
 * mw__lab_*, and each experiment's own prefix (MW__SVH_, MW__REUSE_, MW__SIZES_, MW__FT_). */
#ifndef MEMWALK_LAB_H
#define MEMWALK_LAB_H

#include <stddef.h>
#include <stdint.h>

#include <memwalk/bench.h>

#include "bench/bench_internal.h"
#include "common/common.h"

/* How long to measure. quick: a few samples of small runs, for the tour and the tests; counts
 * (faults, addresses) stay exact, times get noisier. budget_ns: the time this experiment may
 * take (0: no limit); with fault_ns, the measured cost of one page fault on this machine
 * (mw__lab_fault_ns), the experiment sizes its work to fit, and says in its result what it cut.
 * A page fault costs 1.5 us on one machine and 15 us on another: work that faults in fresh pages
 * is what a fixed plan gets wrong. */
typedef struct mw__lab_opts {
    int quick;
    double budget_ns;
    double fault_ns; /* touching a fresh page */
    double free_ns;  /* giving a touched page back (munmap) */
} mw__lab_opts_t;

/* What a budget made an experiment leave out, in words ("" when nothing), and the plan's
 * estimate of its own cost. */
#define MW__LAB_CUT_MAX 240
typedef struct mw__lab_budget {
    double budget_ns;   /* 0: none */
    double estimate_ns; /* what the plan chosen should take */
    char cut[MW__LAB_CUT_MAX];
} mw__lab_budget_t;

/* The cost of touching one fresh page (the fault and the kernel zeroing it), in ns: the best of a
 * few runs over a few MiB of new anonymous memory with 4 KiB pages; *free_ns (when not NULL), the
 * cost of giving one such page back with munmap. */
double mw__lab_fault_ns(double *free_ns);

/* A verdict on an expected lesson: the data agree, disagree, or cannot tell (too close to call
 * on a noisy machine, or the case could not run). */
enum mw__lab_verdict {
    MW__LAB_HOLDS = 1,
    MW__LAB_CONTRADICTED = 0,
    MW__LAB_UNCLEAR = -1,
};

/* ---- stack-vs-heap: the seed's three runs --------------------------------------------------- */

#define MW__SVH_INTS 10000 /* the array: 10,000 ints */
enum mw__svh_case {
    MW__SVH_STACK,     /* one array on the stack, filled again and again */
    MW__SVH_HEAP_FREE, /* malloc, fill, free */
    MW__SVH_HEAP_LEAK, /* malloc, fill, no free (released after the sample, untimed) */
    MW__SVH_CASES,
};

typedef struct mw__lab_svh {
    unsigned ints;                        /* 10,000 */
    unsigned fills;                       /* fills per sample: the seed's run of 1,000 */
    mw_bench_result_t run[MW__SVH_CASES]; /* one operation = one fill of the array */
    uint64_t distinct[MW__SVH_CASES];     /* distinct array addresses over one run of fills */
    double faults_per_fill[MW__SVH_CASES];
    double heap_free_vs_stack; /* median time ratios */
    double leak_vs_heap_free;
    /* The seed's lessons, judged on these numbers. */
    enum mw__lab_verdict stack_faster;   /* "the stack is faster than the heap" */
    enum mw__lab_verdict reuse_explains; /* malloc handed back one block: heap cost ~ stack */
    enum mw__lab_verdict leak_slower;    /* removing free made it slower */
    enum mw__lab_verdict leak_faults;    /* ... because fresh memory page-faults */
    mw__lab_budget_t budget;
} mw__lab_svh_t;

int mw__lab_stack_vs_heap(const mw__lab_opts_t *opts, mw__lab_svh_t *out);

/* ---- reuse: does malloc hand back the block just freed? ------------------------------------ */

#define MW__REUSE_MAX_ROWS 8
enum mw__lab_malloc_mode {
    MW__MODE_DEFAULT, /* glibc as it starts: a 128 KiB mmap threshold that grows on free */
    MW__MODE_FIXED,   /* M_MMAP_THRESHOLD pinned at 128 KiB with mallopt */
    MW__MODES,
};

typedef struct mw__lab_reuse_row {
    size_t size;
    enum mw__lab_malloc_mode mode;
    unsigned rounds;           /* malloc, touch every page, free */
    unsigned distinct;         /* distinct addresses handed back */
    unsigned same_as_previous; /* rounds that got the address freed just before */
    unsigned mmapped;          /* rounds served by mmap (glibc counted one more mapped block) */
    double faults_per_round;   /* minor page faults per round */
} mw__lab_reuse_row_t;

typedef struct mw__lab_reuse {
    size_t threshold; /* glibc's starting mmap threshold, 128 KiB */
    size_t page;
    unsigned rounds;
    size_t nrows;
    mw__lab_reuse_row_t rows[MW__REUSE_MAX_ROWS];
    enum mw__lab_verdict small_reused;   /* below the threshold: the same block every round */
    enum mw__lab_verdict big_mmapped;    /* above it, pinned: a fresh mapping every round */
    enum mw__lab_verdict threshold_grew; /* above it, default: mmap once, then the heap */
    mw__lab_budget_t budget;
} mw__lab_reuse_t;

int mw__lab_reuse(const mw__lab_opts_t *opts, mw__lab_reuse_t *out);

/* ---- sizes: malloc + touch + free from 16 B to 64 MiB ------------------------------------- */

#define MW__SIZES_MAX_ROWS 24
typedef struct mw__lab_sizes_row {
    size_t size;
    mw_bench_result_t run[MW__MODES]; /* one operation = malloc, touch each page, free */
    unsigned mmapped[MW__MODES];      /* of probe_calls calls after the run, served by mmap */
} mw__lab_sizes_row_t;

typedef struct mw__lab_sizes {
    size_t page;
    size_t threshold;     /* the pinned threshold, 128 KiB */
    unsigned probe_calls; /* calls probed for mmap per size and mode */
    size_t nrows;
    mw__lab_sizes_row_t rows[MW__SIZES_MAX_ROWS];
    /* Derived from the rows. 0 when not seen. */
    size_t first_mmapped[MW__MODES]; /* smallest size mostly served by mmap */
    size_t last_heap_default;        /* largest size the default mode served from the heap */
    double ns_per_fault;             /* pinned mode, mmapped sizes: median of time / faults */
    double faults_per_page;          /* pinned mode, largest size: faults per page touched */
    double per_page_growth;          /* pinned: time per page at the largest size / at 1 MiB */
    double pinned_vs_default_1m;     /* time ratio at 1 MiB */
    enum mw__lab_verdict step_at_threshold; /* pinned: faults appear from the threshold on */
    enum mw__lab_verdict linear_in_pages;   /* pinned, mapped sizes: cost grows with pages */
    enum mw__lab_verdict default_avoids;    /* default: repeated 1 MiB calls avoid the faults */
    size_t size_step;                       /* sizes measured: every power of 2 (2) or of 4 */
    size_t max_size_planned;                /* the largest size the budget allowed (64 MiB: all) */
    mw__lab_budget_t budget;
} mw__lab_sizes_t;

int mw__lab_sizes(const mw__lab_opts_t *opts, mw__lab_sizes_t *out);

/* ---- first-touch: fresh pages against pages touched before -------------------------------- */

enum mw__ft_case {
    MW__FT_FRESH,    /* a new anonymous mapping, 4 KiB pages */
    MW__FT_REUSED,   /* the same pages, already touched */
    MW__FT_DONTNEED, /* touched, then given back with MADV_DONTNEED */
    MW__FT_HUGE,     /* a new mapping with MADV_HUGEPAGE (transparent huge pages) */
    MW__FT_CASES,
};

typedef struct mw__lab_ft {
    size_t page;
    size_t pages;                         /* pages per sample for fresh mappings */
    int huge_possible;                    /* THP mode allows MADV_HUGEPAGE */
    int ran[MW__FT_CASES];                /* the case ran (huge needs THP) */
    mw_bench_result_t run[MW__FT_CASES];  /* one operation = one page touched */
    double fresh_vs_reused;               /* median time ratio */
    enum mw__lab_verdict fresh_costlier;  /* first touch costs a fault, a reused page does not */
    enum mw__lab_verdict given_back_pays; /* MADV_DONTNEED pages fault again */
    enum mw__lab_verdict huge_fewer;      /* huge pages: far fewer faults per page */
    mw__lab_budget_t budget;
} mw__lab_ft_t;

int mw__lab_first_touch(const mw__lab_opts_t *opts, mw__lab_ft_t *out);

/* ---- one interface over the four, for `memwalk bench` -------------------------------------- */

#define MW__LAB_MAX_CHARTS 2

/* A chart with the storage its pointers refer to. */
typedef struct mw__lab_chart {
    mw_bench_chart_t chart;
    mw_bench_series_t series[4];
    mw_bench_point_t points[4][MW__SIZES_MAX_ROWS];
    const char *categories[MW__SIZES_MAX_ROWS];
    char category_text[MW__SIZES_MAX_ROWS][48];
    char title[96];
    char note[320];
} mw__lab_chart_t;

typedef struct mw__lab_exp {
    const char *name;
    const char *summary;  /* one line */
    const char *measures; /* what it measures, a few lines */
    size_t result_size;
    size_t budget_offset; /* of the mw__lab_budget_t in the result */
    double weight;        /* its share of a budget, as its part of a full run's cost */
    int (*run)(const mw__lab_opts_t *opts, void *result);
    void (*table)(mw__sb_t *sb, const void *result);
    void (*conclude)(mw__sb_t *sb, const void *result); /* sentences from the numbers */
    void (*csv)(mw__sb_t *sb, const void *result);      /* rows under MW__LAB_CSV_HEADER */
    void (*json)(mw__json_t *j, const char *key, const void *result); /* every value, one object */
    size_t (*charts)(const void *result, mw__lab_chart_t *out);       /* up to MW__LAB_MAX_CHARTS */
} mw__lab_exp_t;

#define MW__LAB_CSV_HEADER                                                                   \
    "experiment,case,bytes,per,iters,samples,median_ns,min_ns,mean_ns,mad_ns,max_ns,cpu_ns," \
    "faults_per_op,rounds,distinct,same_as_previous,mmapped,relative\n"

extern const mw__lab_exp_t mw__lab_stack_vs_heap_desc, mw__lab_reuse_desc, mw__lab_sizes_desc,
    mw__lab_first_touch_desc;

/* The experiments in the order `memwalk bench` runs them, NULL-terminated. */
extern const mw__lab_exp_t *const mw__lab_all[];

const mw__lab_exp_t *mw__lab_find(const char *name);

/* A measurement that runs in a freshly executed process: malloc's state (its dynamic mmap
 * threshold above all) is the one a program starts with, whatever the caller did before; a
 * forked child would inherit the caller's. ctx and result are plain data of the sizes given. */
typedef struct mw__lab_child {
    const char *name; /* unique: how the new process finds it */
    int (*fn)(void *ctx, void *result);
    size_t ctx_size;
    size_t result_size;
    struct mw__lab_child *next;
} mw__lab_child_t;

void mw__lab_child_register(mw__lab_child_t *c);

/* Declares and registers a child measurement, used as a static declaration with its semicolon
 * (registration runs before the constructor that starts a child's work, which has the default
 * priority). */
#define MW__LAB_CHILD(var, name_, fn_, ctx_size_, result_size_)        \
    mw__lab_child_t var;                                               \
    __attribute__((constructor(101))) static void var##_register(void) \
    {                                                                  \
        mw__lab_child_register(&var);                                  \
    }                                                                  \
    static mw__lab_child_t var = {name_, fn_, ctx_size_, result_size_, NULL}

/* Runs c->fn(ctx, result) in a new process: this program executed again (/proc/self/exe), which
 * takes ctx through a pipe, runs the function before main and sends the result back. Returns
 * what fn returned, -ECHILD when the child died (*result then untouched), or -errno when it
 * could not be started. */
int mw__lab_in_child(const mw__lab_child_t *c, const void *ctx, void *result);

/* Helpers for the experiment files. */
/* Appends to b->cut, sentences separated by "; ". */
void mw__lab_cut(mw__lab_budget_t *b, const char *fmt, ...) MW__PRINTF(2, 3);
/* The members "budget_s", "estimate_s" and "cut" (null when nothing was cut) of an experiment's
 * JSON object. */
void mw__lab_budget_json(mw__json_t *j, const mw__lab_budget_t *b);
const char *mw__lab_verdict_word(enum mw__lab_verdict v);
/* The counting columns of a CSV row; -1 leaves a cell empty. faults fills the faults_per_op
 * cell of a row without timings (NaN: empty). */
typedef struct mw__lab_counts {
    long long rounds, distinct, same_as_previous, mmapped;
    double faults;
} mw__lab_counts_t;
/* One CSV row: r (timings) may be NULL, relative may be NaN; empty cells then. */
void mw__lab_csv_row(mw__sb_t *sb, const char *exp, const char *cas, size_t bytes, const char *per,
                     const mw_bench_result_t *r, mw__lab_counts_t counts, double relative);
/* The member `"verdicts": {"k1": "holds", ...}` for n (key, verdict) pairs. */
void mw__lab_json_verdicts(mw__json_t *j, size_t n, const char *const *keys,
                           const enum mw__lab_verdict *v);
/* The number of minor page faults of the calling process so far. */
long mw__lab_minflt(void);
/* Whether glibc counts one more mmapped block now than in `before` (mallinfo2 hblks). */
size_t mw__lab_mmapped_blocks(void);

#endif
