/* mw_bench_run: calibration, warm-up and timed samples of one benchmark. */
#include "bench/bench_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Calibration grows the iteration count at most this much per step: one noisy, too-fast run at a
 * tiny count must not make the next run last seconds. */
#define CALIBRATE_MAX_STEP 100.0
/* and aims this much past the minimum, so the next run usually clears it. */
#define CALIBRATE_OVERSHOOT 1.25
#define DEFAULT_MAX_ITERS   (UINT64_C(1) << 40)

struct sample {
    double wall_ns;
    double cpu_ns;
    double minflt;
    double majflt;
};

static double clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Runs setup, the timed call, teardown. Only the call sits between the clock reads; the fault
 * counters are read outside them, so their cost is not timed. */
static int run_sample(const mw_bench_spec_t *s, uint64_t iters, struct sample *out)
{
    struct rusage r0, r1;
    double w0, w1, c0, c1;

    if (s->setup) {
        int err = s->setup(iters, s->arg);
        if (err < 0)
            return err;
    }
    getrusage(RUSAGE_SELF, &r0);
    c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    w0 = clock_ns(CLOCK_MONOTONIC);
    s->fn(iters, s->arg);
    w1 = clock_ns(CLOCK_MONOTONIC);
    c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    getrusage(RUSAGE_SELF, &r1);
    if (s->teardown)
        s->teardown(iters, s->arg);
    out->wall_ns = w1 - w0;
    out->cpu_ns = c1 - c0;
    out->minflt = (double)(r1.ru_minflt - r0.ru_minflt);
    out->majflt = (double)(r1.ru_majflt - r0.ru_majflt);
    return 0;
}

/* Finds the smallest count, growing geometrically, whose sample lasts min_ns (or max_iters). */
static int calibrate(const mw_bench_spec_t *s, double min_ns, uint64_t max_iters, uint64_t *iters)
{
    uint64_t n = 1;
    struct sample smp;
    int err;

    /* The very first call pays for cold caches, lazy binding, first-touch faults: it would
     * stop calibration at once. It runs, untimed, before the count is searched. */
    if ((err = run_sample(s, 1, &smp)) < 0)
        return err;
    for (;;) {
        err = run_sample(s, n, &smp);
        if (err < 0)
            return err;
        if (smp.wall_ns >= min_ns || n >= max_iters)
            break;
        double mult =
            smp.wall_ns > 0 ? min_ns * CALIBRATE_OVERSHOOT / smp.wall_ns : CALIBRATE_MAX_STEP;
        if (mult > CALIBRATE_MAX_STEP)
            mult = CALIBRATE_MAX_STEP;
        double next = ceil((double)n * mult);
        uint64_t grown = next >= (double)max_iters ? max_iters : (uint64_t)next;
        n = grown > n ? grown : n + 1;
    }
    *iters = n;
    return 0;
}

/* One benchmark of a group: its spec with defaults filled in, its count, its samples. */
struct job {
    mw_bench_spec_t s;
    uint64_t iters;
    double *v; /* 4 x samples: wall, cpu, minflt, majflt per sample */
    double spent_ns;
};

static int prepare(const mw_bench_spec_t *spec, struct job *j)
{
    mw_bench_spec_t s = *spec;
    double t0 = clock_ns(CLOCK_MONOTONIC);
    int err;

    if (s.min_sample_ns <= 0 || isnan(s.min_sample_ns))
        s.min_sample_ns = MW_BENCH_DEFAULT_MIN_SAMPLE_NS;
    if (s.samples == 0)
        s.samples = MW_BENCH_DEFAULT_SAMPLES;
    if (s.warmup == 0)
        s.warmup = 1;
    if (s.max_iters == 0)
        s.max_iters = DEFAULT_MAX_ITERS;
    if (s.max_spread <= 0 || isnan(s.max_spread))
        s.max_spread = MW_BENCH_DEFAULT_MAX_SPREAD;
    j->s = s;
    j->iters = s.iters;
    if (j->iters == 0 && (err = calibrate(&s, s.min_sample_ns, s.max_iters, &j->iters)) < 0)
        return err;
    j->v = malloc(4 * (size_t)s.samples * sizeof *j->v);
    if (!j->v)
        return -ENOMEM;
    j->spent_ns = clock_ns(CLOCK_MONOTONIC) - t0;
    return 0;
}

/* Runs sample i of job j (i < 0: a warm-up sample, not kept). */
static int sample(struct job *j, long i)
{
    struct sample smp;
    double t0 = clock_ns(CLOCK_MONOTONIC);
    int err = run_sample(&j->s, j->iters, &smp);
    unsigned n = j->s.samples;

    j->spent_ns += clock_ns(CLOCK_MONOTONIC) - t0;
    if (err < 0 || i < 0)
        return err;
    j->v[i] = smp.wall_ns / (double)j->iters;
    j->v[n + i] = smp.cpu_ns / (double)j->iters;
    j->v[2 * n + i] = smp.minflt;
    j->v[3 * n + i] = smp.majflt;
    return 0;
}

static int finish(const struct job *j, mw_bench_result_t *out)
{
    mw_bench_result_t r;
    unsigned n = j->s.samples;
    int err;

    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "%s", j->s.name ? j->s.name : "");
    r.iters = j->iters;
    r.samples = n;
    if ((err = mw_bench_stats_compute(j->v, n, &r.wall_ns)) < 0 ||
        (err = mw_bench_stats_compute(j->v + n, n, &r.cpu_ns)) < 0 ||
        (err = mw_bench_stats_compute(j->v + 2 * n, n, &r.minflt)) < 0 ||
        (err = mw_bench_stats_compute(j->v + 3 * n, n, &r.majflt)) < 0)
        return err;
    r.minflt_per_op = r.minflt.median / (double)j->iters;
    r.majflt_per_op = r.majflt.median / (double)j->iters;
    r.spread = r.wall_ns.median > 0 ? r.wall_ns.mad / r.wall_ns.median : 0;
    r.wide = r.spread > j->s.max_spread;
    r.max_spread = j->s.max_spread;
    r.total_ns = j->spent_ns;
    *out = r;
    return 0;
}

int mw_bench_run_group(const mw_bench_spec_t *specs, size_t n, mw_bench_result_t *results)
{
    struct job *jobs;
    mw_bench_result_t *tmp;
    unsigned rounds = 0, warm = 0;
    int err = 0;

    if (!specs || !results || n == 0)
        return -EINVAL;
    for (size_t k = 0; k < n; k++)
        if (!specs[k].fn || specs[k].samples > MW_BENCH_MAX_SAMPLES)
            return -EINVAL;
    jobs = calloc(n, sizeof *jobs);
    tmp = calloc(n, sizeof *tmp);
    if (!jobs || !tmp) {
        err = -ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < n && !err; k++) {
        err = prepare(&specs[k], &jobs[k]);
        rounds = jobs[k].s.samples > rounds ? jobs[k].s.samples : rounds;
        warm = jobs[k].s.warmup > warm ? jobs[k].s.warmup : warm;
    }
    /* Round-robin: sample i of every job before sample i + 1 of any, so that a slow drift of
     * the machine (another process, the clock speed) falls on all of them alike. */
    for (unsigned w = 0; w < warm && !err; w++)
        for (size_t k = 0; k < n && !err; k++)
            if (w < jobs[k].s.warmup)
                err = sample(&jobs[k], -1);
    for (unsigned i = 0; i < rounds && !err; i++)
        for (size_t k = 0; k < n && !err; k++)
            if (i < jobs[k].s.samples)
                err = sample(&jobs[k], (long)i);
    for (size_t k = 0; k < n && !err; k++)
        err = finish(&jobs[k], &tmp[k]);
    if (!err)
        memcpy(results, tmp, n * sizeof *tmp);
out:
    for (size_t k = 0; jobs && k < n; k++)
        free(jobs[k].v);
    free(jobs);
    free(tmp);
    return err;
}

int mw_bench_run(const mw_bench_spec_t *spec, mw_bench_result_t *result)
{
    if (!spec || !result)
        return -EINVAL;
    return mw_bench_run_group(spec, 1, result);
}
