/* valgrind is the oracle: each victim program runs under memcheck and under `memwalk leaks`,
 * and every figure of HEAP SUMMARY and LEAK SUMMARY must be equal, process by process; each
 * allocation site marked "@site FUNC" in the victim's source must appear as "FUNC (file:line)"
 * in both reports. Run once by `make check-leaks-oracle` (valgrind is slow). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"

#define MAXP 8

static int cmp_summary(const void *a, const void *b)
{
    const struct lk_summary *x = a, *y = b;

    if (x->allocs != y->allocs)
        return x->allocs < y->allocs ? -1 : 1;
    if (x->allocated != y->allocated)
        return x->allocated < y->allocated ? -1 : 1;
    if (x->in_use_bytes != y->in_use_bytes)
        return x->in_use_bytes < y->in_use_bytes ? -1 : 1;
    return 0;
}

/* Reads every report file in dir whose name starts with prefix. */
static size_t collect(const char *dir, const char *prefix, struct lk_summary *out, char **text)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0, tlen = 0;

    *text = calloc(1, 1);
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        char *t;
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        n += lk_parse_report(path, out + n, MAXP - n);
        t = lk_slurp(path);
        if (t) {
            size_t k = strlen(t);
            char *nt = realloc(*text, tlen + k + 1);
            if (nt) {
                memcpy(nt + tlen, t, k + 1);
                tlen += k;
                *text = nt;
            }
            free(t);
        }
    }
    closedir(d);
    qsort(out, n, sizeof out[0], cmp_summary);
    return n;
}

static void check_same(const struct lk_summary *v, const struct lk_summary *m, const char *name)
{
    static const char *const k[5] = {"definitely lost", "indirectly lost", "possibly lost",
                                     "still reachable", "suppressed"};
    int i;

    cr_expect_eq(m->in_use_bytes, v->in_use_bytes, "%s: in use bytes %lu, valgrind %lu", name,
                 (unsigned long)m->in_use_bytes, (unsigned long)v->in_use_bytes);
    cr_expect_eq(m->in_use_blocks, v->in_use_blocks, "%s: in use blocks %lu, valgrind %lu", name,
                 (unsigned long)m->in_use_blocks, (unsigned long)v->in_use_blocks);
    cr_expect_eq(m->allocs, v->allocs, "%s: allocs %lu, valgrind %lu", name,
                 (unsigned long)m->allocs, (unsigned long)v->allocs);
    cr_expect_eq(m->frees, v->frees, "%s: frees %lu, valgrind %lu", name, (unsigned long)m->frees,
                 (unsigned long)v->frees);
    cr_expect_eq(m->allocated, v->allocated, "%s: bytes allocated %lu, valgrind %lu", name,
                 (unsigned long)m->allocated, (unsigned long)v->allocated);
    cr_expect_eq(m->all_freed, v->all_freed, "%s: 'All heap blocks were freed' differs", name);
    for (i = 0; i < 4; i++) {
        cr_expect_eq(m->heur_bytes[i], v->heur_bytes[i], "%s: heuristic %d bytes %lu, valgrind %lu",
                     name, i + 1, (unsigned long)m->heur_bytes[i], (unsigned long)v->heur_bytes[i]);
        cr_expect_eq(m->heur_blocks[i], v->heur_blocks[i], "%s: heuristic %d blocks", name, i + 1);
    }
    for (i = 0; i < 5; i++) {
        cr_expect_eq(m->bytes[i], v->bytes[i], "%s: %s bytes %lu, valgrind %lu", name, k[i],
                     (unsigned long)m->bytes[i], (unsigned long)v->bytes[i]);
        cr_expect_eq(m->blocks[i], v->blocks[i], "%s: %s blocks %lu, valgrind %lu", name, k[i],
                     (unsigned long)m->blocks[i], (unsigned long)v->blocks[i]);
    }
}

/* Every "@site FUNC" line of the victim's source must show as "FUNC (name.c:LINE)". */
static void check_sites(const char *name, const char *vg_text, const char *mw_text)
{
    char path[512], *src, *line, *next;
    int lineno = 0, sites = 0;

    snprintf(path, sizeof path, MW_SRC_DIR "/tests/leaks/victims/%s%s", name,
             strchr(name, '.') ? "" : ".c");
    src = lk_slurp(path);
    cr_assert_not_null(src, "cannot read %s", path);
    for (line = src; line && *line; line = next) {
        char *at, fn[128], want[256];
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        at = strstr(line, "@site ");
        if (!at || sscanf(at + 6, "%127s", fn) != 1)
            continue;
        snprintf(want, sizeof want, "%s (%s%s:%d)", fn, name, strchr(name, '.') ? "" : ".c",
                 lineno);
        cr_expect(strstr(vg_text, want) != NULL, "%s: valgrind does not show %s", name, want);
        cr_expect(strstr(mw_text, want) != NULL, "%s: memwalk does not show %s", name, want);
        sites++;
    }
    free(src);
    (void)sites;
}

static void compare_argv(const char *name, char *const *cmd, int mode, const char *src_name);

/* True when the preload defines sym (the C++ operators arrive with their interception). */
static int preload_defines(const char *sym)
{
    char *text = lk_slurp(MW_BUILD_DIR "/libmemwalk-leak.so"), want[64];
    size_t len = 0;
    int found;

    if (!text)
        return 0;
    {
        struct stat st;
        if (stat(MW_BUILD_DIR "/libmemwalk-leak.so", &st) == 0)
            len = (size_t)st.st_size;
    }
    want[0] = '\0';
    snprintf(want + 1, sizeof want - 1, "%s", sym);
    found = memmem(text, len, want, strlen(sym) + 2) != NULL; /* "\0sym\0" in .dynstr */
    free(text);
    return found;
}

/* Victims whose frames differ from memcheck's on purpose: memcheck forgets the symbols of an
 * object unloaded by dlclose ("???"), memwalk still names them (see memwalk-leaks(1)). */
static int frames_differ_by_design(const char *name)
{
    return strcmp(name, "dl_plugin") == 0;
}

/* The loss records of two processes, in order: the same headers ("B bytes in N blocks are
 * KIND in loss record I of M"), and with frames the same function names and file:line. */
static void check_records(const char *name, const char *vg_text, int vg_pid, const char *mw_text,
                          int mw_pid, int frames)
{
    char *a = lk_loss_records(vg_text, vg_pid, frames),
         *b = lk_loss_records(mw_text, mw_pid, frames);
    const char *x = a, *y = b;

    cr_assert(a && b);
    /* Until the preload intercepts operator new, C++ stacks start one frame apart. */
    if (frames && strstr(a, "operator new") && !preload_defines("_Znwm")) {
        free(a);
        free(b);
        check_records(name, vg_text, vg_pid, mw_text, mw_pid, 0);
        return;
    }
    while (*x && *x == *y) {
        x++;
        y++;
    }
    if (*x || *y) {
        const char *lx = x, *ly = y;
        while (lx > a && lx[-1] != '\n')
            lx--;
        while (ly > b && ly[-1] != '\n')
            ly--;
        cr_expect(0, "%s: loss records differ from valgrind's:\n  valgrind: %.*s\n  memwalk:  %.*s",
                  name, (int)strcspn(lx, "\n"), lx, (int)strcspn(ly, "\n"), ly);
    }
    free(a);
    free(b);
}

static void compare(const char *name, const char *prog, int mode, const char *src_name)
{
    char *cmd[] = {(char *)prog, NULL};

    compare_argv(name, cmd, mode, src_name);
}

/* Runs cmd under both tools and compares every summary figure, process by process. */
static void compare_opt(const char *name, char *const *cmd, int mode, const char *src_name,
                        const char *opt);

static void compare_argv(const char *name, char *const *cmd, int mode, const char *src_name)
{
    compare_opt(name, cmd, mode, src_name, NULL);
}

/* The same, opt (an option both tools take, or NULL) given to both. */
static void compare_opt(const char *name, char *const *cmd, int mode, const char *src_name,
                        const char *opt)
{
    char *dir = lk_tmpdir(), vgpat[600], mwpat[600];
    struct lk_summary vg[MAXP], mw[MAXP];
    char *vg_text, *mw_text;
    size_t nv, nm, i;
    int sv, sm;

    cr_assert_not_null(dir);
    snprintf(vgpat, sizeof vgpat, "--log-file=%s/vg.%%p", dir);
    snprintf(mwpat, sizeof mwpat, "--log-file=%s/mw.%%p", dir);
    {
        char *argv[32] = {"valgrind", "--leak-check=full", "--show-leak-kinds=all", vgpat};
        int k = 4, j;
        if (opt)
            argv[k++] = (char *)opt;
        for (j = 0; cmd[j] && k < 31; j++)
            argv[k++] = cmd[j];
        argv[k] = NULL;
        sv = lk_run(argv, mode, NULL, 600);
    }
    {
        char *argv[32] = {LK_MEMWALK, "leaks", "--show-leak-kinds=all", mwpat};
        int k = 4, j;
        if (opt)
            argv[k++] = (char *)opt;
        argv[k++] = "--";
        for (j = 0; cmd[j] && k < 31; j++)
            argv[k++] = cmd[j];
        argv[k] = NULL;
        sm = lk_run(argv, mode, NULL, 120);
    }
    cr_assert_neq(sv, -1, "%s: valgrind did not finish", name);
    cr_assert_neq(sm, -1, "%s: memwalk leaks did not finish (hang?)", name);
    /* The program's status is memwalk's; a death by signal N is 128+N. */
    if (WIFSIGNALED(sv))
        cr_expect(WIFEXITED(sm) && WEXITSTATUS(sm) == 128 + WTERMSIG(sv),
                  "%s: killed by signal %d under valgrind, memwalk status %d", name, WTERMSIG(sv),
                  WIFEXITED(sm) ? WEXITSTATUS(sm) : -1);
    else
        cr_expect(WIFEXITED(sm) && WEXITSTATUS(sm) == WEXITSTATUS(sv),
                  "%s: exit status %d under valgrind, memwalk %d", name, WEXITSTATUS(sv),
                  WIFEXITED(sm) ? WEXITSTATUS(sm) : -1);
    nv = collect(dir, "vg.", vg, &vg_text);
    nm = collect(dir, "mw.", mw, &mw_text);
    cr_assert_gt(nv, 0, "%s: no valgrind summary", name);
    cr_assert_eq(nm, nv, "%s: %zu process reports from memwalk, %zu from valgrind", name, nm, nv);
    for (i = 0; i < nv; i++) {
        check_same(&vg[i], &mw[i], name);
        /* Record order everywhere; frame names in the victims (real programs' valgrind stacks
         * can run past _start into stack garbage). */
        check_records(name, vg_text, vg[i].pid, mw_text, mw[i].pid,
                      src_name != NULL && !frames_differ_by_design(name));
    }
    if (src_name)
        check_sites(src_name, vg_text, mw_text);
    free(vg_text);
    free(mw_text);
    lk_cleanup(dir);
}

#define VICTIM(n)                                           \
    Test(leaks_oracle, n, .timeout = 900)                   \
    {                                                       \
        compare(#n, LK_VICTIMS "/" #n, LK_STDOUT_NULL, #n); \
    }

VICTIM(no_leak)
VICTIM(definite_one)
VICTIM(definite_many)
VICTIM(lost_tree)
VICTIM(lost_list)
VICTIM(interior)
VICTIM(reachable)
VICTIM(realloc_growth)
VICTIM(calloc_leak)
VICTIM(aligned)
VICTIM(strings)
VICTIM(thread_tls)
VICTIM(fork_child)
VICTIM(exit_deep)
VICTIM(mmap_big)
VICTIM(malloc_zero)
VICTIM(cycles)
VICTIM(env_file)
VICTIM(segv)
VICTIM(qsort_cb)
VICTIM(threads_many)
VICTIM(fork_batched)
VICTIM(libc_direct)
VICTIM(pthread_exit_main)
VICTIM(exit_regs)

/* A plugin allocates, is unloaded and loaded again. */
Test(leaks_oracle, dl_plugin, .timeout = 900)
{
    char *cmd[] = {LK_VICTIMS "/dl_plugin", LK_VICTIMS "/libplugin.so", NULL};

    compare_argv("dl_plugin", cmd, LK_STDOUT_NULL, "dl_plugin");
}

/* C++ (heuristics): the source is a .cc file. */
Test(leaks_oracle, cpp_interior, .timeout = 900)
{
    compare("cpp_interior", LK_VICTIMS "/cpp_interior", LK_STDOUT_NULL, "cpp_interior.cc");
}

/* Stale words in reused memory: memcheck's answer with delayed reuse, as memcheck's default
 * --freelist-vol (20 MB) and its way of holding freed blocks (--freelist-hold=yes). */
Test(leaks_oracle, stale_reuse_with_freelist_vol, .timeout = 900)
{
    setenv("MEMWALK_FREELIST_VOL", "20M", 1);
    setenv("MEMWALK_FREELIST_HOLD", "yes", 1);
    compare("stale_reuse", LK_VICTIMS "/stale_reuse", LK_STDOUT_NULL, "stale_reuse");
}

/* C++: every operator new and delete; frame 0 names the operator, as memcheck's does. */
Test(leaks_oracle, cpp_new, .timeout = 900)
{
    static const char *const first[] = {"at 0x", "operator new[](unsigned long) (",
                                        "operator new(unsigned long, std::nothrow_t const&) (",
                                        "operator new(unsigned long, std::align_val_t) ("};
    char *dir = lk_tmpdir(), pat[600], log[600], *text;
    char *argv[] = {LK_MEMWALK, "leaks", pat, LK_VICTIMS "/cpp_new", NULL};
    size_t i;

    compare("cpp_new", LK_VICTIMS "/cpp_new", LK_STDOUT_NULL, "cpp_new.cc");
    snprintf(pat, sizeof pat, "--log-file=%s/log", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    cr_assert_eq(lk_run(argv, LK_STDOUT_NULL, NULL, 60), 0);
    text = lk_slurp(log);
    cr_assert_not_null(text);
    for (i = 0; i < sizeof first / sizeof first[0]; i++)
        cr_expect(strstr(text, first[i]), "no frame 0 \"%s\" in:\n%s", first[i], text);
    free(text);
    lk_cleanup(dir);
}

/* Real programs, built by Debian without frame pointers: their figures too. */
Test(leaks_oracle, python3_imports_json_and_sqlite3, .timeout = 900)
{
    char *cmd[] = {"/usr/bin/python3", "-c", "import json, sqlite3", NULL};

    setenv("PYTHONHASHSEED", "0", 1); /* the same dictionaries in both runs */
    compare_argv("python3", cmd, LK_STDOUT_NULL, NULL);
}

Test(leaks_oracle, git_log, .timeout = 900)
{
    char *cmd[] = {"git", "-C", MW_SRC_DIR, "log", "--oneline", "-n", "20", NULL};

    compare_argv("git", cmd, LK_STDOUT_NULL, NULL);
}

Test(leaks_oracle, sqlite3_queries, .timeout = 900)
{
    char *cmd[] = {"sqlite3", ":memory:",
                   "create table t(a integer primary key, b text);"
                   "with recursive c(x) as (select 1 union all select x+1 from c where x<3000)"
                   " insert into t(b) select printf('%08d', x) from c;"
                   "create index tb on t(b); select count(*), max(b) from t;",
                   NULL};

    compare_argv("sqlite3", cmd, LK_STDOUT_NULL, NULL);
}

/* The seed's two programs, on a terminal as in the article (stdout's buffer is then 1,024
 * bytes): the article's valgrind figures, number for number, from both tools. */
static void seed(const char *name, const struct lk_summary *want)
{
    char *dir = lk_tmpdir(), path[600], prog[512];
    const char *tools[2] = {"vg", "mw"};
    int t;

    cr_assert_not_null(dir);
    snprintf(prog, sizeof prog, MW_BUILD_DIR "/examples/%s", name);
    for (t = 0; t < 2; t++) {
        char pat[640];
        struct lk_summary s[MAXP];
        snprintf(pat, sizeof pat, "--log-file=%s/%s.log", dir, tools[t]);
        if (t == 0) {
            char *argv[] = {"valgrind", "--leak-check=full", pat, prog, NULL};
            cr_assert_eq(lk_run(argv, LK_STDOUT_PTY, NULL, 300), 0);
        } else {
            char *argv[] = {LK_MEMWALK, "leaks", pat, prog, NULL};
            cr_assert_eq(lk_run(argv, LK_STDOUT_PTY, NULL, 60), 0);
        }
        snprintf(path, sizeof path, "%s/%s.log", dir, tools[t]);
        cr_assert_eq(lk_parse_report(path, s, MAXP), 1, "%s: one report expected", tools[t]);
        check_same(want, &s[0], tools[t]);
    }
    lk_cleanup(dir);
}

Test(leaks_seed, point_leak_gives_the_articles_leak_summary, .timeout = 600)
{
    struct lk_summary want = {0};

    want.in_use_bytes = 16;
    want.in_use_blocks = 2;
    want.allocs = 3;
    want.frees = 1;
    want.allocated = 1040;
    want.bytes[0] = 16; /* definitely lost: 16 bytes in 2 blocks */
    want.blocks[0] = 2;
    seed("point_leak", &want);
}

Test(leaks_seed, point_fixed_gives_the_articles_heap_summary, .timeout = 600)
{
    struct lk_summary want = {0};

    want.allocs = 3; /* 3 allocs, 3 frees, 1,040 bytes allocated */
    want.frees = 3;
    want.allocated = 1040;
    want.all_freed = 1;
    seed("point_fixed", &want);
}

/* ---- memcheck's names and order (the command's side) ----------------------------------------
 * Equal-size records of every kind, in memcheck's order with memcheck's numbers; each
 * allocator entry point named as memcheck names it in the first frames. */
VICTIM(record_order)
VICTIM(entry_points)
VICTIM(libc_twins)

Test(leaks_oracle, entry_points_nopie, .timeout = 900)
{
    compare("entry_points_nopie", LK_VICTIMS "/entry_points_nopie", LK_STDOUT_NULL, "entry_points");
}

/* Stacks cut at --num-callers merge as memcheck's: at 3, lose()'s blocks of one kind are one
 * record whatever their size; at 2, posix_memalign's two frames leave no caller. (At 1,
 * valgrind's default suppressions take some one-frame stacks: no comparison.) */
Test(leaks_oracle, record_order_merged_at_three_callers, .timeout = 900)
{
    char *cmd[] = {LK_VICTIMS "/record_order", NULL};

    compare_opt("record_order/3", cmd, LK_STDOUT_NULL, NULL, "--num-callers=3");
}

/* Children started through the shell (system, popen, env -i, a cleared environment) are traced
 * as valgrind traces them: one report each, with the same figures. */
Test(leaks_oracle, shell_children_traced, .timeout = 900)
{
    char *cmd[] = {LK_VICTIMS "/shell_children", NULL};

    compare_opt("shell_children", cmd, LK_STDOUT_NULL, "shell_children", "--trace-children=yes");
}

Test(leaks_oracle, entry_points_merged_at_two_callers, .timeout = 900)
{
    char *cmd[] = {LK_VICTIMS "/entry_points", NULL};

    compare_opt("entry_points/2", cmd, LK_STDOUT_NULL, NULL, "--num-callers=2");
}

/* ---- suppressions valgrind wrote --------------------------------------------------------------
 * valgrind --gen-suppressions=all writes one suppression per loss record; given that file,
 * memwalk must hide every block (its names, kinds and stacks being memcheck's). */
static size_t extract_suppressions(const char *log, const char *supp)
{
    char *text = lk_slurp(log), *line, *save = NULL;
    FILE *out = fopen(supp, "w");
    size_t n = 0;
    int in = 0;

    cr_assert_not_null(text, "no valgrind log %s", log);
    cr_assert_not_null(out);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strcmp(line, "{") == 0)
            in = 1;
        if (in)
            fprintf(out, "%s\n", line);
        if (in && strcmp(line, "}") == 0) {
            in = 0;
            n++;
        }
    }
    fclose(out);
    free(text);
    return n;
}

static void generated_suppressions_hide_everything(const char *name, char *const *cmd)
{
    char *dir = lk_tmpdir(), vglog[600], mwlog[600], supp[600], a1[700], a2[700], a3[700];
    struct lk_summary s[MAXP];
    size_t nsupp;
    int k;

    cr_assert_not_null(dir);
    snprintf(vglog, sizeof vglog, "%s/vg.log", dir);
    snprintf(mwlog, sizeof mwlog, "%s/mw.log", dir);
    snprintf(supp, sizeof supp, "%s/generated.supp", dir);
    {
        char *argv[32] = {"valgrind", "--leak-check=full", "--show-leak-kinds=all",
                          "--gen-suppressions=all", a1};
        int j;
        snprintf(a1, sizeof a1, "--log-file=%s", vglog);
        for (k = 5, j = 0; cmd[j] && k < 31; j++)
            argv[k++] = cmd[j];
        argv[k] = NULL;
        cr_assert_neq(lk_run(argv, LK_STDOUT_NULL, NULL, 600), -1, "%s: valgrind hung", name);
    }
    nsupp = extract_suppressions(vglog, supp);
    cr_assert_gt(nsupp, 0, "%s: valgrind wrote no suppression", name);
    {
        char *argv[32] = {LK_MEMWALK, "leaks", "--show-leak-kinds=all", a2, a3, "--"};
        int j;
        snprintf(a2, sizeof a2, "--log-file=%s", mwlog);
        snprintf(a3, sizeof a3, "--suppressions=%s", supp);
        for (k = 6, j = 0; cmd[j] && k < 31; j++)
            argv[k++] = cmd[j];
        argv[k] = NULL;
        cr_assert_neq(lk_run(argv, LK_STDOUT_NULL, NULL, 120), -1, "%s: memwalk hung", name);
    }
    cr_assert_eq(lk_parse_report(mwlog, s, MAXP), 1, "%s: one report expected", name);
    cr_assert_gt(s[0].in_use_blocks, 0, "%s: nothing to suppress", name);
    for (k = 0; k < 4; k++)
        cr_expect_eq(s[0].blocks[k], 0,
                     "%s: %lu blocks of kind %d not suppressed by the %zu suppressions valgrind "
                     "wrote (%s kept)",
                     name, (unsigned long)s[0].blocks[k], k, nsupp, dir);
    cr_expect_eq(s[0].bytes[4], s[0].in_use_bytes, "%s: suppressed %lu of %lu bytes", name,
                 (unsigned long)s[0].bytes[4], (unsigned long)s[0].in_use_bytes);
    if (s[0].bytes[4] == s[0].in_use_bytes)
        lk_cleanup(dir);
}

#define GENERATED_SUPP(n)                                \
    Test(leaks_supp_generated, n, .timeout = 900)        \
    {                                                    \
        char *cmd[] = {LK_VICTIMS "/" #n, NULL};         \
        generated_suppressions_hide_everything(#n, cmd); \
    }

GENERATED_SUPP(entry_points)
GENERATED_SUPP(record_order)
GENERATED_SUPP(lost_tree)
GENERATED_SUPP(aligned)
GENERATED_SUPP(strings)
GENERATED_SUPP(threads_many)

Test(leaks_supp_generated, git_log, .timeout = 900)
{
    char *cmd[] = {"git", "-C", MW_SRC_DIR, "log", "--oneline", "-n", "20", NULL};

    generated_suppressions_hide_everything("git", cmd);
}

/* gcc's driver: a stack valgrind continues past _start with frames from a stack scan. */
Test(leaks_supp_generated, gcc_driver, .timeout = 900)
{
    char *cmd[] = {"gcc", "-E", "-o", "/dev/null", MW_SRC_DIR "/tests/leaks/victims/definite_one.c",
                   NULL};

    generated_suppressions_hide_everything("gcc", cmd);
}

/* C++: valgrind's suppressions start at fun:_Znwm (mangled), stacks print operator new; every
 * variant of the operators (cpp_new). */
Test(leaks_supp_generated, cpp_interior, .timeout = 900)
{
    char *cmd[] = {LK_VICTIMS "/cpp_interior", NULL};

    if (!preload_defines("_Znwm"))
        cr_skip_test("the preload does not intercept operator new yet");
    generated_suppressions_hide_everything("cpp_interior", cmd);
}

Test(leaks_supp_generated, cpp_new, .timeout = 900)
{
    char *cmd[] = {LK_VICTIMS "/cpp_new", NULL};

    if (!preload_defines("_Znwm"))
        cr_skip_test("the preload does not intercept operator new yet");
    generated_suppressions_hide_everything("cpp_new", cmd);
}
