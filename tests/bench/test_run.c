/* Tests for mw_bench_run: iteration counts, calibration, setup and teardown, page faults, errors.
 * Nothing here depends on how fast the machine is. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <memwalk/bench.h>

struct counter {
    uint64_t calls;     /* fn calls */
    uint64_t ops;       /* iterations summed over fn calls */
    uint64_t setups;    /* setup calls */
    uint64_t teardowns; /* teardown calls */
    uint64_t last_iters;
    int fail_setup_at; /* setup returns -EIO on this call (1-based); 0 never */
};

static void count_fn(uint64_t iters, void *arg)
{
    struct counter *c = arg;
    c->calls++;
    c->ops += iters;
    c->last_iters = iters;
    for (uint64_t i = 0; i < iters; i++)
        mw_bench_clobber();
}

static int count_setup(uint64_t iters, void *arg)
{
    struct counter *c = arg;
    (void)iters;
    c->setups++;
    return (int)c->setups == c->fail_setup_at ? -EIO : 0;
}

static void count_teardown(uint64_t iters, void *arg)
{
    struct counter *c = arg;
    (void)iters;
    c->teardowns++;
}

Test(bench_run, fixed_iterations_run_warmup_plus_samples)
{
    struct counter c = {0};
    mw_bench_spec_t spec = {
        .name = "fixed", .fn = count_fn, .arg = &c, .iters = 7, .samples = 5, .warmup = 2};
    mw_bench_result_t r;

    cr_assert_eq(mw_bench_run(&spec, &r), 0);
    cr_assert_eq(c.calls, 7, "2 warm-up + 5 timed samples, no calibration");
    cr_assert_eq(c.ops, 49);
    cr_assert_eq(r.iters, 7);
    cr_assert_eq(r.samples, 5);
    cr_assert_str_eq(r.name, "fixed");
}

Test(bench_run, setup_and_teardown_frame_every_sample)
{
    struct counter c = {0};
    mw_bench_spec_t spec = {.fn = count_fn,
                            .arg = &c,
                            .setup = count_setup,
                            .teardown = count_teardown,
                            .iters = 3,
                            .samples = 4};
    mw_bench_result_t r;

    cr_assert_eq(mw_bench_run(&spec, &r), 0);
    cr_assert_eq(c.setups, c.calls);
    cr_assert_eq(c.teardowns, c.calls);
    cr_assert_eq(c.calls, 5, "default warm-up of 1 plus 4 samples");
}

Test(bench_run, calibration_grows_the_count_and_respects_the_cap)
{
    struct counter c = {0};
    mw_bench_spec_t spec = {
        .fn = count_fn, .arg = &c, .samples = 3, .min_sample_ns = 1e9, .max_iters = 5000};
    mw_bench_result_t r;

    /* A 1 s minimum cannot be reached by 5000 empty iterations: the cap stops calibration. */
    cr_assert_eq(mw_bench_run(&spec, &r), 0);
    cr_assert_eq(r.iters, 5000);
    cr_assert_eq(c.last_iters, 5000);
    cr_assert_gt(c.calls, 3 + 1, "calibration runs come before warm-up and samples");
}

Test(bench_run, calibration_leaves_one_iteration_for_slow_operations)
{
    struct counter c = {0};
    mw_bench_spec_t spec = {.fn = count_fn, .arg = &c, .samples = 3, .min_sample_ns = 1};

    mw_bench_result_t r;
    cr_assert_eq(mw_bench_run(&spec, &r), 0);
    cr_assert_eq(r.iters, 1, "one call already lasts more than 1 ns");
}

Test(bench_run, statistics_are_ordered)
{
    struct counter c = {0};
    mw_bench_spec_t spec = {.fn = count_fn, .arg = &c, .samples = 9, .min_sample_ns = 2e5};
    mw_bench_result_t r;

    cr_assert_eq(mw_bench_run(&spec, &r), 0);
    cr_assert_leq(r.wall_ns.min, r.wall_ns.median);
    cr_assert_leq(r.wall_ns.median, r.wall_ns.max);
    cr_assert_leq(r.wall_ns.min, r.wall_ns.mean);
    cr_assert_leq(r.wall_ns.mean, r.wall_ns.max);
    cr_assert_geq(r.wall_ns.mad, 0);
    cr_assert_gt(r.wall_ns.min, 0);
    cr_assert_geq(r.total_ns, r.wall_ns.median * r.iters * r.samples);
    cr_assert_float_eq(r.spread, r.wall_ns.mad / r.wall_ns.median, 1e-9);
}

/* ---- page faults: each sample touches a fresh mapping -----------------------------------------
 */

struct pages {
    char *base;
    size_t page;
};

static int map_pages(uint64_t iters, void *arg)
{
    struct pages *p = arg;
    p->page = (size_t)sysconf(_SC_PAGESIZE);
    p->base =
        mmap(NULL, iters * p->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p->base == MAP_FAILED ? -errno : 0;
}

static void touch_pages(uint64_t iters, void *arg)
{
    struct pages *p = arg;
    for (uint64_t i = 0; i < iters; i++)
        p->base[i * p->page] = 1;
    mw_bench_keep(p->base);
}

static void unmap_pages(uint64_t iters, void *arg)
{
    struct pages *p = arg;
    munmap(p->base, iters * p->page);
}

Test(bench_run, counts_one_minor_fault_per_fresh_page)
{
    struct pages p;
    mw_bench_spec_t spec = {.fn = touch_pages,
                            .arg = &p,
                            .setup = map_pages,
                            .teardown = unmap_pages,
                            .iters = 256,
                            .samples = 5};
    mw_bench_result_t r;

    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0); /* 4 KiB pages: one fault each */
    cr_assert_eq(mw_bench_run(&spec, &r), 0);
    cr_assert_geq(r.minflt.median, 256);
    cr_assert_leq(r.minflt.median, 256 + 16, "the harness itself adds almost nothing");
    cr_assert_float_eq(r.minflt_per_op, r.minflt.median / 256, 1e-12);
    cr_assert_float_eq(r.majflt.median, 0, 1e-12);
}

Test(bench_run, counts_no_fault_when_nothing_is_touched)
{
    struct counter c = {0};
    mw_bench_spec_t spec = {.fn = count_fn, .arg = &c, .iters = 1000, .samples = 5};
    mw_bench_result_t r;

    cr_assert_eq(mw_bench_run(&spec, &r), 0);
    cr_assert_leq(r.minflt.median, 1);
}

/* ---- errors ------------------------------------------------------------------------------------
 */

Test(bench_run, setup_error_is_returned_and_result_untouched)
{
    struct counter c = {.fail_setup_at = 3};
    mw_bench_spec_t spec = {
        .fn = count_fn, .arg = &c, .setup = count_setup, .iters = 2, .samples = 5};
    mw_bench_result_t r;

    memset(&r, 0x5a, sizeof r);
    cr_assert_eq(mw_bench_run(&spec, &r), -EIO);
    cr_assert_eq(r.iters, 0x5a5a5a5a5a5a5a5aull, "result written only on success");
    cr_assert_eq(c.calls, 2, "the run stops at the failing setup");
}

Test(bench_run, rejects_bad_specs)
{
    struct counter c = {0};
    mw_bench_spec_t no_fn = {.name = "x"};
    mw_bench_spec_t too_many = {.fn = count_fn, .arg = &c, .samples = MW_BENCH_MAX_SAMPLES + 1};
    mw_bench_result_t r;

    cr_assert_eq(mw_bench_run(&no_fn, &r), -EINVAL);
    cr_assert_eq(mw_bench_run(&too_many, &r), -EINVAL);
    cr_assert_eq(mw_bench_run(NULL, &r), -EINVAL);
    cr_assert_eq(mw_bench_run(&no_fn, NULL), -EINVAL);
    cr_assert_eq(c.calls, 0);
}

Test(bench_run, long_names_are_truncated_not_overflowed)
{
    char name[200];
    struct counter c = {0};
    mw_bench_result_t r;

    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    mw_bench_spec_t spec = {.name = name, .fn = count_fn, .arg = &c, .iters = 1, .samples = 1};
    cr_assert_eq(mw_bench_run(&spec, &r), 0);
    cr_assert_eq(strlen(r.name), MW_BENCH_NAME_MAX - 1);
}

/* ---- groups -------------------------------------------------------------------------------------
 */

static char order[64];
static size_t norder;

/* arg is a char naming the spec: setup writes it down, so the test sees the order of samples. */
static int note_setup(uint64_t iters, void *arg)
{
    (void)iters;
    if (norder + 1 < sizeof order)
        order[norder++] = *(const char *)arg;
    return 0;
}

static void do_nothing(uint64_t iters, void *arg)
{
    (void)iters, (void)arg;
}

Test(bench_run, group_interleaves_samples_after_calibration)
{
    static char a = 'a', b = 'b';
    mw_bench_spec_t specs[2] = {
        {.name = "a", .fn = do_nothing, .arg = &a, .setup = note_setup, .iters = 1, .samples = 3},
        {.name = "b", .fn = do_nothing, .arg = &b, .setup = note_setup, .iters = 1, .samples = 2},
    };
    mw_bench_result_t r[2];

    norder = 0;
    cr_assert_eq(mw_bench_run_group(specs, 2, r), 0);
    order[norder] = '\0';
    cr_assert_str_eq(order, "abababa", "warm-up a b, then samples a b, a b, a");
    cr_assert_eq(r[0].samples, 3);
    cr_assert_eq(r[1].samples, 2);
    cr_assert_str_eq(r[1].name, "b");
}

Test(bench_run, group_failure_writes_no_result)
{
    struct counter ok = {0}, bad = {.fail_setup_at = 2};
    mw_bench_spec_t specs[2] = {
        {.name = "ok", .fn = count_fn, .arg = &ok, .iters = 1, .samples = 3},
        {.name = "bad",
         .fn = count_fn,
         .arg = &bad,
         .setup = count_setup,
         .iters = 1,
         .samples = 3},
    };
    mw_bench_result_t r[2];

    memset(r, 0x5a, sizeof r);
    cr_assert_eq(mw_bench_run_group(specs, 2, r), -EIO);
    cr_assert_eq(r[0].iters, 0x5a5a5a5a5a5a5a5aull, "not even the spec that succeeded");
    cr_assert_eq(mw_bench_run_group(specs, 0, r), -EINVAL);
}
