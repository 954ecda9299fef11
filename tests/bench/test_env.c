/* Tests for the environment header: what it reads, and when it warns. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memwalk/bench.h>

static char *env_text(const mw_bench_env_t *env)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    cr_assert_not_null(f);
    cr_assert_eq(mw_bench_env_write(f, env), 0);
    fclose(f);
    return buf;
}

Test(bench_env, reads_this_machine)
{
    mw_bench_env_t env;

    cr_assert_eq(mw_bench_env_read(&env), 0);
    cr_assert_gt(strlen(env.cpu_model), 0);
    cr_assert_gt(env.cpus, 0);
    cr_assert_gt(strlen(env.kernel), 0);
    cr_assert(env.aslr >= -1 && env.aslr <= 2);
    cr_assert_geq(env.loadavg, 0);
    cr_assert_eq(env.under_valgrind, 0, "the unit tests do not run under valgrind");
    cr_assert(strncmp(env.compiler, "gcc ", 4) == 0 || strncmp(env.compiler, "clang ", 6) == 0);
}

Test(bench_env, quiet_machine_has_no_warning)
{
    mw_bench_env_t env = {.cpu_model = "Test CPU",
                          .cpus = 4,
                          .governor = "performance",
                          .aslr = 0,
                          .thp = "never",
                          .loadavg = 0.1};
    char *out = env_text(&env);

    cr_assert_not_null(strstr(out, "# cpu: Test CPU, 4 online; load average 0.10\n"));
    cr_assert_not_null(strstr(out, "# frequency governor: performance;"));
    cr_assert_not_null(strstr(out, "ASLR off"));
    cr_assert_null(strstr(out, "warning"));
    free(out);
}

Test(bench_env, warns_about_governor_valgrind_and_load)
{
    mw_bench_env_t env = {.cpu_model = "Test CPU",
                          .cpus = 2,
                          .governor = "powersave",
                          .aslr = 2,
                          .under_valgrind = 1,
                          .loadavg = 1.5};
    char *out = env_text(&env);

    cr_assert_not_null(strstr(out, "# warning: running under valgrind"));
    cr_assert_not_null(strstr(out, "# warning: CPU frequency scaling: governor 'powersave'"));
    cr_assert_not_null(strstr(out, "# warning: load average 1.50 on 2 CPUs"));
    cr_assert_not_null(strstr(out, "ASLR on"));
    for (char *line = out; *line;) {
        size_t len = strcspn(line, "\n");
        cr_assert_leq(len, 100, "header line over 100 columns: %.*s", (int)len, line);
        line += len + (line[len] == '\n');
    }
    free(out);
}

Test(bench_env, no_cpufreq_is_stated_not_warned)
{
    mw_bench_env_t env = {.cpu_model = "VM", .cpus = 2, .aslr = 2, .loadavg = 0};
    char *out = env_text(&env);

    cr_assert_not_null(strstr(out, "# frequency governor: none (no cpufreq"));
    cr_assert_null(strstr(out, "warning"));
    free(out);
}
