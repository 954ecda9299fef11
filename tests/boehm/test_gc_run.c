/* `memwalk gc-run`: takes over an unmodified program linked with Boehm's libgc.so.1, passes the
 * settings, keeps the program's status, refuses what it cannot run. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../support/run.h"

#define MEMWALK MW_BUILD_DIR "/memwalk"
#define PROG    MW_BUILD_DIR "/tests/boehm_prog"

static char *run_ok(const char *cmd)
{
    int status;
    char *out = run(cmd, &status);

    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: status %d: %s", cmd, status, out);
    return out;
}

static int exit_status(const char *cmd)
{
    int status;

    free(run(cmd, &status));
    cr_assert(WIFEXITED(status), "%s", cmd);
    return WEXITSTATUS(status);
}

Test(gc_run, without_it_the_program_runs_on_boehm)
{
    char *out = run_ok(PROG " list 1000");

    cr_assert(strstr(out, "collector: libgc.so.1") != NULL, "%s", out);
    free(out);
}

Test(gc_run, takes_over_an_unmodified_boehm_program)
{
    char *out = run_ok(MEMWALK " gc-run " PROG " list 200000");

    cr_assert(strstr(out, "collector: libmemwalk-boehm.so") != NULL, "%s", out);
    cr_assert(strstr(out, "list ok: 200000 nodes") != NULL, "%s", out);
    free(out);
}

Test(gc_run, stats_are_printed_at_exit)
{
    char *out = run_ok(MEMWALK " gc-run --stats -- " PROG " list 1000 2>&1");

    cr_assert(strstr(out, "list ok") != NULL, "%s", out);
    cr_assert(strstr(out, "memwalk gc: ") != NULL && strstr(out, " collections, heap ") != NULL,
              "%s", out);
    cr_assert(strstr(out, "memwalk gc: pauses: total ") != NULL, "%s", out);
    free(out);
}

Test(gc_run, collect_every_makes_collections)
{
    char *out = run_ok(MEMWALK " gc-run --stats --collect-every=100 " PROG " list 2000 2>&1");
    const char *p = strstr(out, "memwalk gc: ");
    long n;

    cr_assert_not_null(p, "%s", out);
    n = atol(p + strlen("memwalk gc: "));
    /* 4000 allocations (+ GC_gcollect): at least 40 collections */
    cr_assert_geq(n, 40, "%s", out);
    cr_assert(strstr(out, "list ok: 2000 nodes") != NULL, "%s", out);
    free(out);
}

Test(gc_run, keeps_the_program_status_and_its_signal)
{
    int status;

    cr_assert_eq(exit_status(MEMWALK " gc-run " PROG " exit 7"), 7);
    free(run("exec " MEMWALK " gc-run " PROG " kill", &status));
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "status %d", status);
}

Test(gc_run, says_when_the_program_calls_what_memwalk_lacks)
{
    char *out = run_ok(MEMWALK " gc-run " MW_BUILD_DIR "/tests/missing_prog 2>&1");

    cr_assert(strstr(out, "memwalk gc: warning: ") != NULL, "%s", out);
    cr_assert(
        strstr(out,
               "missing_prog uses GC_register_disclaim_proc, which memwalk does not provide") !=
            NULL,
        "%s", out);
    cr_assert(strstr(out, "allocated") != NULL, "%s", out);
    free(out);
    out = run_ok(MEMWALK " gc-run " PROG " list 10 2>&1");
    cr_assert(strstr(out, "warning") == NULL, "nothing to say about a program it serves: %s", out);
    free(out);
}

Test(gc_run, keeps_the_existing_ld_preload)
{
    char *out = run_ok("LD_PRELOAD=libm.so.6 " MEMWALK " gc-run sh -c 'echo \"$LD_PRELOAD\"'");

    cr_assert(strstr(out, "libmemwalk-boehm.so libm.so.6") != NULL, "%s", out);
    free(out);
}

Test(gc_run, refuses_what_it_cannot_run)
{
    cr_assert_eq(exit_status(MEMWALK " gc-run no-such-program-here 2>/dev/null"), 127);
    cr_assert_eq(exit_status(MEMWALK " gc-run /etc/passwd 2>/dev/null"), 126);
    cr_assert_eq(exit_status(MEMWALK " gc-run /tmp 2>/dev/null"), 126, "a directory");
    cr_assert_eq(exit_status(MEMWALK " gc-run " MW_BUILD_DIR "/tests/static_prog 2>/dev/null"),
                 126);
    cr_assert_eq(exit_status("MEMWALK_BOEHM_LIB=/nonexistent " MEMWALK " gc-run true 2>/dev/null"),
                 4);
}

Test(gc_run, bad_usage_is_status_2_with_one_line)
{
    int status;
    char *out;

    cr_assert_eq(exit_status(MEMWALK " gc-run 2>/dev/null"), 2);
    cr_assert_eq(exit_status(MEMWALK " gc-run --collect-every=0 true 2>/dev/null"), 2);
    cr_assert_eq(exit_status(MEMWALK " gc-run --collect-every=x true 2>/dev/null"), 2);
    out = run(MEMWALK " gc-run --nope true 2>&1", &status);
    cr_assert_str_eq(out, "memwalk: gc-run: --nope: unknown option (try 'memwalk help gc-run')\n");
    free(out);
}

Test(gc_run, help_goes_to_stdout)
{
    char *out = run_ok(MEMWALK " help gc-run");

    cr_assert(strstr(out, "usage: memwalk gc-run [options] [--] PROGRAM [ARGS...]") != NULL);
    free(out);
}
