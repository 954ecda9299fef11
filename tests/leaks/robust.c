/* Robustness: real programs (python3, sqlite3, git, gcc) run under `memwalk leaks` without a
 * crash, hang or deadlock and keep their exit status; a crashing program still gets its report;
 * a static binary, a missing or non-executable program get clear errors and their documented
 * statuses. Run once by `make check-leaks-robust`. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define MAXARGS 32

/* Runs argv natively and under memwalk leaks (report to dir/log); returns memwalk's status
 * after checking it equals the native one. */
static int both(const char *dir, char *const *argv, const char *opt)
{
    char *mw[MAXARGS + 8], pat[600], log[600];
    int native, traced, n = 0, i;
    struct lk_summary s[8];

    snprintf(pat, sizeof pat, "--log-file=%s/log", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    mw[n++] = LK_MEMWALK;
    mw[n++] = "leaks";
    mw[n++] = pat;
    if (opt)
        mw[n++] = (char *)opt;
    mw[n++] = "--";
    for (i = 0; argv[i] && n < MAXARGS; i++)
        mw[n++] = argv[i];
    mw[n] = NULL;
    native = lk_run(argv, LK_STDOUT_NULL, NULL, 120);
    traced = lk_run(mw, LK_STDOUT_NULL, NULL, 120);
    cr_assert_neq(native, -1, "%s did not finish natively", argv[0]);
    cr_assert_neq(traced, -1, "%s hung under memwalk leaks", argv[0]);
    cr_assert(WIFEXITED(native) && WIFEXITED(traced), "%s: killed by a signal", argv[0]);
    cr_assert_eq(WEXITSTATUS(traced), WEXITSTATUS(native),
                 "%s: status %d under memwalk leaks, %d natively", argv[0], WEXITSTATUS(traced),
                 WEXITSTATUS(native));
    cr_assert_geq(lk_parse_report(log, s, 8), 1, "%s: no leak report", argv[0]);
    return WEXITSTATUS(traced);
}

Test(leaks_robust, python3_imports_json_and_sqlite3, .timeout = 300)
{
    char *dir = lk_tmpdir();
    char *argv[] = {"/usr/bin/python3", "-c", "import json, sqlite3", NULL};

    cr_assert_eq(both(dir, argv, NULL), 0);
    lk_cleanup(dir);
}

Test(leaks_robust, python3_exit_status_is_kept, .timeout = 300)
{
    char *dir = lk_tmpdir();
    char *argv[] = {"/usr/bin/python3", "-c", "import sys; sys.exit(3)", NULL};

    cr_assert_eq(both(dir, argv, NULL), 3);
    lk_cleanup(dir);
}

Test(leaks_robust, sqlite3_builds_and_queries_a_table, .timeout = 300)
{
    char *dir = lk_tmpdir();
    char *argv[] = {"sqlite3", ":memory:",
                    "create table t(a integer primary key, b text);"
                    "with recursive c(x) as (select 1 union all select x+1 from c where x<20000)"
                    " insert into t(b) select hex(randomblob(16)) from c;"
                    "create index tb on t(b); select count(*), max(length(b)) from t;",
                    NULL};

    cr_assert_eq(both(dir, argv, NULL), 0);
    lk_cleanup(dir);
}

Test(leaks_robust, sqlite3_error_status_is_kept, .timeout = 300)
{
    char *dir = lk_tmpdir();
    char *argv[] = {"sqlite3", ":memory:", "select * from no_such_table;", NULL};

    cr_assert_neq(both(dir, argv, NULL), 0);
    lk_cleanup(dir);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(leaks_robust, git_init_add_commit_log, .timeout = 300)
{
    char *dir = lk_tmpdir(), repo[600], file[700];

    snprintf(repo, sizeof repo, "%s/repo", dir);
    snprintf(file, sizeof file, "%s/repo/hello.txt", dir);
    {
        char *argv[] = {"git", "init", "-q", repo, NULL};
        cr_assert_eq(both(dir, argv, NULL), 0);
    }
    write_file(file, "hello\n");
    {
        char *argv[] = {"git", "-C", repo, "add", "hello.txt", NULL};
        cr_assert_eq(both(dir, argv, NULL), 0);
    }
    {
        char *argv[] = {"git",    "-C", repo, "-c",  "user.name=t",   "-c", "user.email=t@t",
                        "commit", "-q", "-m", "one", "--allow-empty", NULL};
        cr_assert_eq(both(dir, argv, NULL), 0);
    }
    {
        char *argv[] = {"git", "-C", repo, "log", "--oneline", NULL};
        cr_assert_eq(both(dir, argv, NULL), 0);
    }
    lk_cleanup(dir);
}

Test(leaks_robust, git_error_status_is_kept, .timeout = 300)
{
    char *dir = lk_tmpdir();
    char *argv[] = {"git", "-C", "/nonexistent-memwalk-dir", "status", NULL};

    cr_assert_eq(both(dir, argv, NULL), 128);
    lk_cleanup(dir);
}

Test(leaks_robust, gcc_compiles_a_file, .timeout = 300)
{
    char *dir = lk_tmpdir(), src[600], obj[600];
    struct stat st;

    snprintf(src, sizeof src, "%s/x.c", dir);
    snprintf(obj, sizeof obj, "%s/x.o", dir);
    write_file(src, "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n");
    {
        char *argv[] = {"gcc", "-O2", "-c", src, "-o", obj, NULL};
        cr_assert_eq(both(dir, argv, NULL), 0);
    }
    cr_assert_eq(stat(obj, &st), 0, "no object file");
    lk_cleanup(dir);
}

Test(leaks_robust, gcc_error_status_is_kept, .timeout = 300)
{
    char *dir = lk_tmpdir(), src[600], obj[600];

    snprintf(src, sizeof src, "%s/bad.c", dir);
    snprintf(obj, sizeof obj, "%s/bad.o", dir);
    write_file(src, "int main(void) { return nope; }\n");
    {
        char *argv[] = {"gcc", "-c", src, "-o", obj, NULL};
        cr_assert_eq(both(dir, argv, NULL), 1);
    }
    lk_cleanup(dir);
}

Test(leaks_robust, gcc_with_trace_children_reports_every_program, .timeout = 300)
{
    char *dir = lk_tmpdir(), src[600], obj[600], pat[640], log[640];
    struct lk_summary s[8];
    int st;

    snprintf(src, sizeof src, "%s/x.c", dir);
    snprintf(obj, sizeof obj, "%s/x.o", dir);
    snprintf(pat, sizeof pat, "--log-file=%s/log.%%p", dir);
    write_file(src, "int f(int x) { return x * 2; }\n");
    {
        char *argv[] = {LK_MEMWALK, "leaks", "--trace-children=yes", pat, "gcc", "-c", src, "-o",
                        obj,        NULL};
        st = lk_run(argv, LK_STDOUT_NULL, NULL, 240);
    }
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    {
        /* gcc, cc1 and as: at least three reports */
        char cmd[800];
        FILE *p;
        int files = 0;
        snprintf(cmd, sizeof cmd, "ls %s | grep -c '^log\\.'", dir);
        p = popen(cmd, "r");
        cr_assert_not_null(p);
        cr_assert_eq(fscanf(p, "%d", &files), 1);
        pclose(p);
        cr_expect_geq(files, 3, "only %d processes reported", files);
    }
    snprintf(log, sizeof log, "%s/log", dir);
    (void)s;
    lk_cleanup(dir);
}

Test(leaks_robust, segfault_still_reports, .timeout = 120)
{
    char *dir = lk_tmpdir(), pat[600], log[600], *text;
    int st;
    char *argv[] = {LK_MEMWALK, "leaks", pat, LK_VICTIMS "/segv", NULL};

    snprintf(pat, sizeof pat, "--log-file=%s/log", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    st = lk_run(argv, LK_STDOUT_NULL, NULL, 60);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 128 + 11, "status %d", st);
    text = lk_slurp(log);
    cr_assert_not_null(text);
    cr_expect(strstr(text, "Process terminating with default action of signal 11 (SIGSEGV)"));
    cr_expect(strstr(text, "Access not within mapped region at address 0x0"));
    cr_expect(strstr(text, "definitely lost: 64 bytes in 1 blocks"));
    free(text);
    lk_cleanup(dir);
}

Test(leaks_robust, killed_by_sigkill_is_reported_with_128_plus_9, .timeout = 60)
{
    char *dir = lk_tmpdir(), err[600], *text;
    /* sent by another process (/bin/kill): no report can be made (self-kill: self_kill test) */
    char *argv[] = {LK_MEMWALK, "leaks", "sh", "-c", "/bin/kill -9 $$", NULL};
    int st;

    snprintf(err, sizeof err, "%s/err", dir);
    st = lk_run(argv, LK_STDOUT_NULL, err, 60);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 137, "status %d", st);
    text = lk_slurp(err);
    cr_expect(text && strstr(text, "Process terminated by signal 9 (SIGKILL)"));
    free(text);
    lk_cleanup(dir);
}

Test(leaks_robust, static_binary_is_refused_clearly, .timeout = 60)
{
    char *dir = lk_tmpdir(), err[600], *text;
    char *argv[] = {LK_MEMWALK, "leaks", LK_VICTIMS "/static_prog", NULL};
    int st;

    snprintf(err, sizeof err, "%s/err", dir);
    st = lk_run(argv, LK_STDOUT_NULL, err, 60);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 126, "status %d", st);
    text = lk_slurp(err);
    cr_expect(text && strstr(text, "cannot trace a static binary"), "stderr: %s", text);
    free(text);
    lk_cleanup(dir);
}

Test(leaks_robust, missing_program_is_127, .timeout = 60)
{
    char *argv[] = {LK_MEMWALK, "leaks", "no-such-program-memwalk", NULL};
    int st = lk_run(argv, LK_STDOUT_NULL, NULL, 60);

    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127, "status %d", st);
}

Test(leaks_robust, non_executable_file_is_126, .timeout = 60)
{
    char *argv[] = {LK_MEMWALK, "leaks", MW_SRC_DIR "/README.md", NULL};
    int st = lk_run(argv, LK_STDOUT_NULL, NULL, 60);

    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 126, "status %d", st);
}

Test(leaks_robust, error_exitcode_applies_only_with_errors, .timeout = 60)
{
    char *leaky[] = {LK_MEMWALK, "leaks", "--error-exitcode=42", LK_VICTIMS "/definite_one", NULL};
    char *clean[] = {LK_MEMWALK, "leaks", "--error-exitcode=42", LK_VICTIMS "/no_leak", NULL};
    int st = lk_run(leaky, LK_STDOUT_NULL, NULL, 60);

    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 42, "status %d", st);
    st = lk_run(clean, LK_STDOUT_NULL, NULL, 60);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

Test(leaks_robust, suppression_moves_the_block_to_suppressed, .timeout = 60)
{
    char *dir = lk_tmpdir(), supp[600], pat[600], opt[700], log[600];
    struct lk_summary s[2];
    int st;

    snprintf(supp, sizeof supp, "%s/s.supp", dir);
    snprintf(opt, sizeof opt, "--suppressions=%s", supp);
    snprintf(pat, sizeof pat, "--log-file=%s/log", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    write_file(supp, "# ours\n{\n   leak_one is known\n   Memcheck:Leak\n   match-leak-kinds: "
                     "definite\n   fun:malloc\n   fun:leak_*\n   ...\n}\n");
    {
        char *argv[] = {
            LK_MEMWALK, "leaks", opt, pat, "--error-exitcode=9", LK_VICTIMS "/definite_one", NULL};
        st = lk_run(argv, LK_STDOUT_NULL, NULL, 60);
    }
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    cr_assert_eq(lk_parse_report(log, s, 2), 1);
    cr_expect_eq(s[0].bytes[4], 100);
    cr_expect_eq(s[0].blocks[4], 1);
    cr_expect_eq(s[0].bytes[0], 0);
    lk_cleanup(dir);
}

Test(leaks_robust, json_report_has_the_summary, .timeout = 60)
{
    char *dir = lk_tmpdir(), json[600], opt[700], *text;
    int st;

    snprintf(json, sizeof json, "%s/r.json", dir);
    snprintf(opt, sizeof opt, "--json=%s", json);
    {
        char *argv[] = {LK_MEMWALK, "leaks", opt, LK_VICTIMS "/lost_tree", NULL};
        st = lk_run(argv, LK_STDOUT_NULL, NULL, 60);
    }
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    text = lk_slurp(json);
    cr_assert_not_null(text);
    cr_expect(strstr(text, "\"definite\":{\"bytes\":24,\"blocks\":1}"), "%s", text);
    cr_expect(strstr(text, "\"indirect\":{\"bytes\":1488,\"blocks\":62}"));
    cr_expect(strstr(text, "\"function\":\"build\""));
    free(text);
    lk_cleanup(dir);
}

static int count_files(const char *dir, const char *prefix)
{
    char cmd[800];
    FILE *p;
    int n = -1;

    snprintf(cmd, sizeof cmd, "ls %s | grep -c '^%s'", dir, prefix);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    if (fscanf(p, "%d", &n) != 1)
        n = -1;
    pclose(p);
    return n;
}

Test(leaks_robust, executed_programs_are_traced_only_when_asked, .timeout = 120)
{
    char *dir = lk_tmpdir(), pat[600];
    int st;

    snprintf(pat, sizeof pat, "--log-file=%s/no.%%p", dir);
    {
        char *argv[] = {LK_MEMWALK, "leaks", pat, "sh", "-c", "/bin/true; /bin/true", NULL};
        st = lk_run(argv, LK_STDOUT_NULL, NULL, 60);
    }
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cr_expect_eq(count_files(dir, "no\\."), 1, "only the shell reports by default");
    snprintf(pat, sizeof pat, "--log-file=%s/yes.%%p", dir);
    {
        char *argv[] = {LK_MEMWALK, "leaks", "--trace-children=yes", pat,
                        "sh",       "-c",    "/bin/true; /bin/true", NULL};
        st = lk_run(argv, LK_STDOUT_NULL, NULL, 60);
    }
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cr_expect_eq(count_files(dir, "yes\\."), 3, "the shell and both programs report");
    lk_cleanup(dir);
}

Test(leaks_robust, errors_for_leak_kinds_decides_the_error_exitcode, .timeout = 60)
{
    char *counted[] = {LK_MEMWALK,
                       "leaks",
                       "--errors-for-leak-kinds=definite",
                       "--error-exitcode=9",
                       LK_VICTIMS "/definite_one",
                       NULL};
    char *ignored[] = {LK_MEMWALK,
                       "leaks",
                       "--errors-for-leak-kinds=reachable",
                       "--error-exitcode=9",
                       LK_VICTIMS "/definite_one",
                       NULL};
    int st = lk_run(counted, LK_STDOUT_NULL, NULL, 60);

    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 9, "status %d", st);
    st = lk_run(ignored, LK_STDOUT_NULL, NULL, 60);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

Test(leaks_robust, modules_without_debug_info_are_named_once, .timeout = 120)
{
    char *dir = lk_tmpdir(), pat[600], log[600], *text, *first;
    char *argv[] = {LK_MEMWALK,         "leaks", "--show-leak-kinds=all", pat,
                    "/usr/bin/python3", "-c",    "import json",           NULL};
    int st;

    snprintf(pat, sizeof pat, "--log-file=%s/log", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    st = lk_run(argv, LK_STDOUT_NULL, NULL, 60);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    text = lk_slurp(log);
    cr_assert_not_null(text);
    first = strstr(text, "Note: no debug info (module+offset shown) for:");
    cr_expect(first, "no note naming the modules without debug info");
    cr_expect(first && !strstr(first + 1, "Note: no debug info"), "the note is printed once");
    cr_expect(strstr(text, "???") == NULL || strstr(text, "+0x"), "unknown frames show +0x");
    free(text);
    lk_cleanup(dir);
}

Test(leaks_robust, stacks_in_an_unloaded_plugin_are_symbolized, .timeout = 60)
{
    char *dir = lk_tmpdir(), pat[600], log[600], *text;
    char *argv[] = {LK_MEMWALK,
                    "leaks",
                    "--show-leak-kinds=all",
                    pat,
                    LK_VICTIMS "/dl_plugin",
                    LK_VICTIMS "/libplugin.so",
                    NULL};
    int st;

    snprintf(pat, sizeof pat, "--log-file=%s/log", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    st = lk_run(argv, LK_STDOUT_NULL, NULL, 60);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    text = lk_slurp(log);
    cr_assert_not_null(text);
    cr_expect(strstr(text, "plugin_make (plugin.c:"), "%s", text);
    cr_expect(strstr(text, "definitely lost: 161 bytes in 2 blocks"), "%s", text);
    free(text);
    lk_cleanup(dir);
}

/* ---- issue 9: the host is never broken, the report always comes ---------------------------- */

/* Runs a victim under memwalk leaks (log to dir/log); returns the wait status, *text the log. */
static int victim(const char *dir, char *const *args, const char *opt, char **text)
{
    char *argv[MAXARGS], pat[600], log[600];
    int n = 0, i, st;

    snprintf(pat, sizeof pat, "--log-file=%s/log", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    argv[n++] = LK_MEMWALK;
    argv[n++] = "leaks";
    argv[n++] = pat;
    if (opt)
        argv[n++] = (char *)opt;
    argv[n++] = "--";
    for (i = 0; args[i] && n < MAXARGS - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    unlink(log);
    st = lk_run(argv, LK_STDOUT_NULL, NULL, 60);
    *text = lk_slurp(log);
    return st;
}

/* A program that turns the time stamp counter off for itself (prctl or syscall): the tracer
 * stops reading it (a read would raise SIGSEGV where the processor enforces it, not on every
 * VM), prctl still does what the program asked, the report comes. */
Test(leaks_robust, a_program_turning_the_time_stamp_counter_off, .timeout = 120)
{
    char *dir = lk_tmpdir(), *text;
    char *by_prctl[] = {LK_VICTIMS "/tsc_off", NULL};
    char *by_syscall[] = {LK_VICTIMS "/tsc_off", "syscall", NULL};
    char *const *args[] = {by_prctl, by_syscall};
    unsigned i;

    for (i = 0; i < 2; i++) {
        int st = victim(dir, args[i], NULL, &text);
        cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%u: status %#x", i, st);
        cr_expect(text && strstr(text, "definitely lost: 100 bytes in 1 blocks"), "%u: %s", i,
                  text);
        free(text);
    }
    lk_cleanup(dir);
}

Test(leaks_robust, threads_that_block_every_signal_at_exit, .timeout = 300)
{
    char *dir = lk_tmpdir(), *text;
    char *args[] = {LK_VICTIMS "/sigblock_threads", NULL};
    int run;

    for (run = 0; run < 3; run++) {
        int st = victim(dir, args, NULL, &text);
        cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "run %d: status %d", run, st);
        cr_expect(text && strstr(text, "LEAK SUMMARY"), "run %d: no report", run);
        free(text);
    }
    lk_cleanup(dir);
}

Test(leaks_robust, fork_while_threads_allocate, .timeout = 300)
{
    char *dir = lk_tmpdir(), *text;
    char *args[] = {LK_VICTIMS "/fork_threads", NULL};
    int st = victim(dir, args, NULL, &text);

    /* the status is the number of children that did not exit 0 */
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    free(text);
    lk_cleanup(dir);
}

static void dies_of(const char *sig_arg, int sig)
{
    char *dir = lk_tmpdir(), *text;
    char *args[] = {LK_VICTIMS "/async_signal", (char *)sig_arg, NULL};
    int st = victim(dir, args, NULL, &text);

    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 128 + sig, "status %d", st);
    cr_expect(text && strstr(text, "definitely lost: 33 bytes in 1 blocks"), "%s", text);
    free(text);
    lk_cleanup(dir);
}

Test(leaks_robust, sigalrm_while_allocating, .timeout = 120)
{
    dies_of("14", 14);
}

Test(leaks_robust, sigterm_while_allocating, .timeout = 120)
{
    dies_of("15", 15);
}

Test(leaks_robust, sigint_while_allocating, .timeout = 120)
{
    dies_of("2", 2);
}

Test(leaks_robust, self_sigkill_is_reported_first, .timeout = 60)
{
    char *dir = lk_tmpdir(), *text;
    char *args[] = {LK_VICTIMS "/self_kill", NULL};
    int st = victim(dir, args, NULL, &text);

    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 137, "status %d", st);
    cr_expect(text && strstr(text, "definitely lost: 50 bytes in 1 blocks"), "%s", text);
    free(text);
    lk_cleanup(dir);
}

Test(leaks_robust, low_address_space_limit_still_reports, .timeout = 60)
{
    char *dir = lk_tmpdir(), *text;
    char *args[] = {LK_VICTIMS "/low_rlimit_as", NULL};
    int st = victim(dir, args, NULL, &text);

    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    cr_expect(text && strstr(text, "definitely lost: 100,000 bytes in 1,000 blocks"), "%s", text);
    free(text);
    lk_cleanup(dir);
}

Test(leaks_robust, cleared_environment_keeps_tracing_children, .timeout = 60)
{
    char *dir = lk_tmpdir(), *text;
    char *plain[] = {LK_VICTIMS "/clearenv_exec", LK_VICTIMS "/definite_one", NULL};
    char *empty[] = {LK_VICTIMS "/clearenv_exec", LK_VICTIMS "/definite_one", "execle", NULL};
    int st = victim(dir, plain, "--trace-children=yes", &text);

    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    cr_expect(text && strstr(text, "definitely lost: 100 bytes in 1 blocks"), "execv: %s", text);
    free(text);
    st = victim(dir, empty, "--trace-children=yes", &text);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    cr_expect(text && strstr(text, "definitely lost: 100 bytes in 1 blocks"), "execle: %s", text);
    free(text);
    lk_cleanup(dir);
}

/* A program that closes every descriptor it may have and opens files of its own: the report
 * still comes (the tracer keeps its copy above the descriptor limit), and nothing of the
 * tracer's lands in the program's file. */
Test(leaks_robust, closing_every_descriptor_keeps_the_report, .timeout = 60)
{
    char *dir = lk_tmpdir(), *text, own[600], out[600], env[700];
    char *args[] = {LK_VICTIMS "/close_fds", own, NULL};
    struct rlimit rl, low;
    struct stat sb;
    int st;

    snprintf(own, sizeof own, "%s/own.txt", dir);
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    low = rl;
    if (low.rlim_cur >= low.rlim_max || low.rlim_cur > 1024)
        low.rlim_cur = low.rlim_max > 1024 ? 1024 : low.rlim_max - 1; /* room above the limit */
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    st = victim(dir, args, NULL, &text);
    setrlimit(RLIMIT_NOFILE, &rl);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    cr_expect(text && strstr(text, "definitely lost: 42 bytes in 1 blocks"), "%s", text);
    cr_expect(stat(own, &sb) == 0 && sb.st_size == 0, "the program's file got %ld bytes",
              (long)sb.st_size);
    free(text);
    /* By hand: MEMWALK_OUT is opened when the report is written. */
    snprintf(out, sizeof out, "%s/raw", dir);
    snprintf(env, sizeof env, "MEMWALK_OUT=%s", out);
    unlink(own);
    {
        char preload[600];
        char *argv[] = {"env", preload, env, LK_VICTIMS "/close_fds", own, NULL};
        char *read[] = {LK_MEMWALK, "leaks", "--read", out, NULL};
        char err[700];
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libmemwalk-leak.so", MW_BUILD_DIR);
        snprintf(err, sizeof err, "%s/read.txt", dir);
        cr_assert_eq(lk_run(argv, LK_STDOUT_NULL, NULL, 60), 0);
        cr_assert_eq(lk_run(read, LK_STDOUT_NULL, err, 60), 0);
        text = lk_slurp(err);
        cr_expect(text && strstr(text, "definitely lost: 42 bytes in 1 blocks"), "%s", text);
        free(text);
    }
    cr_expect(stat(own, &sb) == 0 && sb.st_size == 0, "the program's file got %ld bytes",
              (long)sb.st_size);
    lk_cleanup(dir);
}

/* A fixed table of the tracer fills up: said on stderr and in the report. */
Test(leaks_robust, a_full_table_is_said_in_the_report, .timeout = 120)
{
    char *dir = lk_tmpdir(), *text;
    char *args[] = {LK_VICTIMS "/threads_over_limit", NULL};
    int st = victim(dir, args, NULL, &text);

    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    cr_expect(text && strstr(text, "Note: tracer limit reached: too many threads to stop"), "%s",
              text);
    free(text);
    lk_cleanup(dir);
}
