/* A micro-benchmark harness that does not fool its user: calibration, warm-up, many samples,
 * robust statistics, page faults, optimizer barriers, the machine's state, and writers for text,
 * CSV, JSON and SVG. */
#ifndef MEMWALK_BENCH_H
#define MEMWALK_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Optimizer barriers
 * ------------------
 * A benchmark measures code whose result nobody reads, which is exactly the code an optimizing
 * compiler deletes. The classic stack-versus-heap loop
 *
 *     int array[10000];
 *     for (i = 0; i < 1000; i++)
 *         for (j = 0; j < 10000; j++)
 *             array[j] = sum + j;
 *
 * stores into an array that is never read: at -O2, gcc and clang remove the inner loop and the
 * "stack" version times an empty loop. With malloc/free around the fill, they remove the
 * allocation too (they know free reads nothing). Add after the fill:
 *
 *     mw_bench_keep(array);
 *
 * mw_bench_keep(x) makes the compiler produce the value x (an array gives its address) and
 * assume that code it cannot see reads it and any memory reachable from it, so the stores stay;
 * it emits no instruction of its own beyond keeping x in a register or on the stack.
 * mw_bench_clobber() makes the compiler assume that all memory was read and written, so stores
 * before it happen and loads after it are redone. Neither stops the compiler from computing a
 * loop-invariant value once: feed each iteration something the compiler cannot know.
 */
#define mw_bench_keep(x)                                               \
    do {                                                               \
        __extension__ __auto_type mw_bench_kept_ = (x);                \
        __asm__ __volatile__("" : : "r,m"(mw_bench_kept_) : "memory"); \
    } while (0)

#define mw_bench_clobber() __asm__ __volatile__("" : : : "memory")

/* The operation measured: runs it `iters` times (the harness divides by iters). */
typedef void (*mw_bench_fn_t)(uint64_t iters, void *arg);
/* Prepares one sample of `iters` operations outside the timed region; 0 or a negative errno. */
typedef int (*mw_bench_setup_fn_t)(uint64_t iters, void *arg);
/* Undoes the setup after the sample, outside the timed region. */
typedef void (*mw_bench_teardown_fn_t)(uint64_t iters, void *arg);

/* What to measure and how. Zero fields take the defaults named here. */
typedef struct mw_bench_spec {
    const char *name;                /* shown in reports (at most MW_BENCH_NAME_MAX - 1 bytes) */
    mw_bench_fn_t fn;                /* required */
    void *arg;                       /* passed to fn, setup and teardown */
    mw_bench_setup_fn_t setup;       /* optional, before every sample and calibration run */
    mw_bench_teardown_fn_t teardown; /* optional, after every sample and calibration run */
    uint64_t iters;                  /* operations per sample; 0: calibrate */
    uint64_t max_iters;              /* calibration never goes above; 0: 2^40 */
    double min_sample_ns;            /* calibrate until a sample lasts this long; 0: 10 ms */
    unsigned samples;                /* timed samples; 0: 15 */
    unsigned warmup;                 /* samples run and discarded after calibration; 0: 1 */
    double max_spread;               /* MAD/median above which a result is flagged; 0: 0.10 */
} mw_bench_spec_t;

#define MW_BENCH_DEFAULT_MIN_SAMPLE_NS 10e6
#define MW_BENCH_DEFAULT_SAMPLES       15
#define MW_BENCH_DEFAULT_MAX_SPREAD    0.10
#define MW_BENCH_MAX_SAMPLES           100000
#define MW_BENCH_NAME_MAX              64

/* Order statistics of one quantity over the samples. mad is the median absolute deviation from
 * the median (not scaled: multiply by 1.4826 for a normal sigma). */
typedef struct mw_bench_stats {
    double min;
    double median;
    double mean;
    double mad;
    double max;
} mw_bench_stats_t;

/* The outcome of one benchmark: plain data, no pointers, safe to copy or send through a pipe. */
typedef struct mw_bench_result {
    char name[MW_BENCH_NAME_MAX];
    uint64_t iters;           /* operations per sample (calibrated or given) */
    unsigned samples;         /* timed samples */
    mw_bench_stats_t wall_ns; /* wall-clock nanoseconds per operation */
    mw_bench_stats_t cpu_ns;  /* process CPU nanoseconds per operation (user + system) */
    mw_bench_stats_t minflt;  /* minor page faults per sample */
    mw_bench_stats_t majflt;  /* major page faults per sample */
    double minflt_per_op;     /* minflt.median / iters */
    double majflt_per_op;     /* majflt.median / iters */
    double spread;            /* wall_ns.mad / wall_ns.median */
    int wide;                 /* spread above max_spread: do not trust small gaps */
    double max_spread;        /* the bound that applied (the spec's or the default) */
    double total_ns;          /* the whole run: calibration, warm-up, samples, setups */
} mw_bench_result_t;

/* Measures spec: calibrates the iteration count (unless spec->iters is set) until one sample
 * lasts spec->min_sample_ns, runs the warm-up samples, then the timed samples, each between its
 * setup and teardown, and fills *result. Returns 0, -EINVAL (no fn, samples above
 * MW_BENCH_MAX_SAMPLES), -ENOMEM, or the negative errno a setup returned; *result is written only
 * on success. */
int mw_bench_run(const mw_bench_spec_t *spec, mw_bench_result_t *result);

/* Measures specs[0..n-1] together: each is calibrated, then their warm-up and timed samples
 * run in turns (sample i of every spec before sample i + 1 of any), so that a slow change of the
 * machine's state (another process, the clock speed) hits all of them alike. Use it for peers
 * that are compared. Fills results[0..n-1] only if every spec succeeded; errors as mw_bench_run,
 * from the first spec that failed. */
int mw_bench_run_group(const mw_bench_spec_t *specs, size_t n, mw_bench_result_t *results);

/* Computes the statistics of values[0..n-1] (left untouched). Returns 0, -EINVAL when n is 0 or a
 * value is NaN, or -ENOMEM; *out is written only on success. */
int mw_bench_stats_compute(const double *values, size_t n, mw_bench_stats_t *out);

/* ---- registration -------------------------------------------------------------------------- */

/* A registered benchmark: the spec and the link that MW_BENCH's constructor fills in. */
typedef struct mw_bench_reg {
    mw_bench_spec_t spec;
    struct mw_bench_reg *next;
} mw_bench_reg_t;

/* Adds reg to the list that mw_bench_main runs (in registration order). reg must stay alive. */
void mw_bench_register(mw_bench_reg_t *reg);

/* Registers `void fn(uint64_t iters, void *arg)` under the name `id` (an identifier) with the
 * default spec, when the program starts. Used as a declaration, at file scope, with its
 * semicolon: `MW_BENCH(fill, fill);` (clean under -pedantic). */
#define MW_BENCH(id, function) MW_BENCH_SPEC(id, .fn = (function))

/* Registers a benchmark with spec fields given as designated initializers:
 *     MW_BENCH_SPEC(fill_fresh, .fn = touch, .setup = map_pages, .teardown = unmap_pages,
 *                   .iters = 4096);
 * (The registration function comes first, so that the definition the semicolon closes is the
 * last thing the macro writes.) */
#define MW_BENCH_SPEC(id, ...)                                            \
    static mw_bench_reg_t mw_bench_reg_##id;                              \
    __attribute__((constructor)) static void mw_bench_register_##id(void) \
    {                                                                     \
        mw_bench_register(&mw_bench_reg_##id);                            \
    }                                                                     \
    static mw_bench_reg_t mw_bench_reg_##id = {{.name = #id, __VA_ARGS__}, NULL}

/* The number of registered benchmarks, and the i-th (NULL past the end). */
size_t mw_bench_registered_count(void);
const mw_bench_spec_t *mw_bench_registered(size_t i);

/* Whether name matches the filter, a POSIX extended regular expression searched anywhere in the
 * name (a NULL or empty filter matches everything). Returns 1, 0, or -EINVAL for a bad regex. */
int mw_bench_filter_match(const char *filter, const char *name);

/* A ready main() for a program of MW_BENCH registrations: runs those matching --filter and
 * prints a report. Options: --filter REGEX, --list, --csv, --json, --svg FILE, --baseline NAME,
 * --samples N, --min-time MS, --quick, --help (--svg - writes the chart to standard output and
 * the table to standard error). Returns an exit status: 0 success, 1 a benchmark failed, 2 bad
 * usage or a filter that matches no benchmark, 3 the --svg file could not be written. */
int mw_bench_main(int argc, char **argv);

/* ---- the machine ----------------------------------------------------------------------------- */

/* What affects results, read from /proc and /sys. Empty strings and -1 mean "unknown". */
typedef struct mw_bench_env {
    char cpu_model[96];
    int cpus;           /* online CPUs */
    char governor[32];  /* cpufreq governor of cpu0; "" when the kernel has no cpufreq (VMs) */
    int aslr;           /* /proc/sys/kernel/randomize_va_space: 0 off, 1 partial, 2 full */
    char thp[16];       /* transparent huge pages: always, madvise or never */
    int under_valgrind; /* 1 when running on valgrind's synthetic CPU */
    double loadavg;     /* 1-minute load average */
    char kernel[80];    /* uname -r */
    char compiler[64];  /* the compiler that built libmemwalk */
} mw_bench_env_t;

/* Fills *env. Never fails: what cannot be read stays unknown. Returns 0. */
int mw_bench_env_read(mw_bench_env_t *env);

/* Returns 1 when the process runs under valgrind. */
int mw_bench_under_valgrind(void);

/* Writes the environment header ("# cpu: ...") and one "# warning: ..." line per condition that
 * skews results: frequency scaling not pinned, running under valgrind, a loaded machine (ASLR and
 * transparent huge pages are stated as they change addresses and fault counts). Returns 0 or
 * -EIO. */
int mw_bench_env_write(FILE *out, const mw_bench_env_t *env);

/* ---- reports --------------------------------------------------------------------------------- */

typedef struct mw_bench_report {
    const char *title;                /* optional */
    const mw_bench_env_t *env;        /* optional: the header */
    const mw_bench_result_t *results; /* count results */
    size_t count;
    const char *baseline; /* optional: the name of the result the others are
                           * compared to (median over its median) */
} mw_bench_report_t;

/* A table: one row per result with min, median, mean, MAD, max per operation, CPU time, faults
 * per sample and the ratio to the baseline; then a warning naming the results with a wide spread.
 * All writers return 0, -EINVAL (unknown baseline) or -EIO (write error). */
int mw_bench_write_text(FILE *out, const mw_bench_report_t *report);
/* CSV with a header line; numbers in nanoseconds, empty cells for what does not apply. */
int mw_bench_write_csv(FILE *out, const mw_bench_report_t *report);
/* One JSON object: {"title", "env", "baseline", "results": [...]}. */
int mw_bench_write_json(FILE *out, const mw_bench_report_t *report);
/* A horizontal bar chart of the medians with min..max whiskers (log scale when they span more
 * than a factor of 50). */
int mw_bench_write_svg(FILE *out, const mw_bench_report_t *report);

/* ---- charts ---------------------------------------------------------------------------------- */

/* One value of a series; lo and hi draw an error bar unless they are NaN. For bar charts, x is
 * ignored: point i belongs to category i. */
typedef struct mw_bench_point {
    double x;
    double y;
    double lo;
    double hi;
} mw_bench_point_t;

typedef struct mw_bench_series {
    const char *name;
    const mw_bench_point_t *points;
    size_t count;
} mw_bench_series_t;

enum mw_bench_chart_kind {
    MW_BENCH_CHART_LINES, /* x-y lines with markers */
    MW_BENCH_CHART_BARS,  /* horizontal bars, one row per category, one bar per series */
};

enum mw_bench_chart_flags {
    MW_BENCH_CHART_LOG_X = 1 << 0,   /* lines: logarithmic x axis */
    MW_BENCH_CHART_LOG_Y = 1 << 1,   /* logarithmic value axis (y, or the bars' length) */
    MW_BENCH_CHART_X_BYTES = 1 << 2, /* x ticks read as sizes: 16 B, 4 KiB, 64 MiB */
    MW_BENCH_CHART_Y_NS = 1 << 3,    /* values read as durations in ns: 850 ns, 1.2 us, 3 ms */
};

typedef struct mw_bench_chart {
    const char *title;
    const char *x_label;
    const char *y_label; /* the value axis */
    enum mw_bench_chart_kind kind;
    unsigned flags;
    const mw_bench_series_t *series;
    size_t nseries;
    const char *const *categories; /* bars: one label per row */
    size_t ncategories;
    const char *note; /* optional line of text under the chart */
} mw_bench_chart_t;

/* Writes charts[0..n-1] stacked in one SVG document. Non-positive values are left out of log
 * axes. Returns 0, -EINVAL (no chart, a bar chart without categories) or -EIO. */
int mw_bench_chart_write_svg(FILE *out, const mw_bench_chart_t *charts, size_t n);

#endif
