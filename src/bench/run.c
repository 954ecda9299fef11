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

    for (;;) {
        int err = run_sample(s, n, &smp);
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

int mw_bench_run(const mw_bench_spec_t *spec, mw_bench_result_t *result)
{
    mw_bench_spec_t s;
    mw_bench_result_t r;
    double *v = NULL, start = clock_ns(CLOCK_MONOTONIC);
    uint64_t iters;
    int err;

    if (!spec || !spec->fn || !result || spec->samples > MW_BENCH_MAX_SAMPLES)
        return -EINVAL;
    s = *spec;
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

    iters = s.iters;
    if (iters == 0 && (err = calibrate(&s, s.min_sample_ns, s.max_iters, &iters)) < 0)
        return err;

    /* One block for the four per-sample series: wall, cpu, minflt, majflt. */
    v = malloc(4 * (size_t)s.samples * sizeof *v);
    if (!v)
        return -ENOMEM;
    double *wall = v, *cpu = v + s.samples, *minflt = v + 2 * s.samples,
           *majflt = v + 3 * s.samples;
    struct sample smp;
    for (unsigned i = 0; i < s.warmup; i++)
        if ((err = run_sample(&s, iters, &smp)) < 0)
            goto out;
    for (unsigned i = 0; i < s.samples; i++) {
        if ((err = run_sample(&s, iters, &smp)) < 0)
            goto out;
        wall[i] = smp.wall_ns / (double)iters;
        cpu[i] = smp.cpu_ns / (double)iters;
        minflt[i] = smp.minflt;
        majflt[i] = smp.majflt;
    }

    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "%s", s.name ? s.name : "");
    r.iters = iters;
    r.samples = s.samples;
    if ((err = mw_bench_stats_compute(wall, s.samples, &r.wall_ns)) < 0 ||
        (err = mw_bench_stats_compute(cpu, s.samples, &r.cpu_ns)) < 0 ||
        (err = mw_bench_stats_compute(minflt, s.samples, &r.minflt)) < 0 ||
        (err = mw_bench_stats_compute(majflt, s.samples, &r.majflt)) < 0)
        goto out;
    r.minflt_per_op = r.minflt.median / (double)iters;
    r.majflt_per_op = r.majflt.median / (double)iters;
    r.spread = r.wall_ns.median > 0 ? r.wall_ns.mad / r.wall_ns.median : 0;
    r.wide = r.spread > s.max_spread;
    r.total_ns = clock_ns(CLOCK_MONOTONIC) - start;
    *result = r;
    err = 0;
out:
    free(v);
    return err;
}
