/* memwalk heap against massif (valgrind 3.19) on phase-shaped programs, both with
 * --time-unit=B: the peak within 1 % of massif's mem_heap_B, the same top allocation sites at
 * the peak, and ms_print reading memwalk's file. */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../leaks/harness.h"
#include "massif.h"

#define TIMEOUT 300

static char *tmp_path(const char *dir, const char *name)
{
    static char path[2][512];
    static int k;

    snprintf(path[k & 1], sizeof path[0], "%s/%s", dir, name);
    return path[k++ & 1];
}

static void run_ok(char *const argv[], const char *err)
{
    int st = lk_run(argv, LK_STDOUT_NULL, err, TIMEOUT);

    cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s %s failed (status %d)", argv[0],
              argv[1], st);
}

/* Profiles victim under massif and under memwalk heap into dir/vg.%p and dir/mw.%p. */
static void profile_both(const char *dir, const char *victim)
{
    char vg_out[512], mw_out[512], prog[512], err[512];

    snprintf(prog, sizeof prog, "%s/%s", MS_VICTIMS, victim);
    snprintf(vg_out, sizeof vg_out, "--massif-out-file=%s/vg.%%p", dir);
    snprintf(mw_out, sizeof mw_out, "--massif-out-file=%s/mw.%%p", dir);
    snprintf(err, sizeof err, "%s/vg.err", dir);
    {
        char *argv[] = {"valgrind", "--tool=massif", "--time-unit=B", vg_out, prog, NULL};
        run_ok(argv, err);
    }
    snprintf(err, sizeof err, "%s/mw.err", dir);
    {
        char *argv[] = {MS_MEMWALK, "heap", "--time-unit=B", mw_out, prog, NULL};
        run_ok(argv, err);
    }
}

/* The files dir/prefix.*, read, largest peak first; returns how many. */
static size_t read_all(const char *dir, const char *prefix, struct ms_file *out, size_t max)
{
    char pat[512];
    glob_t g;
    size_t i, n = 0;

    snprintf(pat, sizeof pat, "%s/%s.[0-9]*", dir, prefix);
    if (glob(pat, 0, NULL, &g) != 0)
        return 0;
    for (i = 0; i < g.gl_pathc && n < max; i++)
        if (ms_read(g.gl_pathv[i], &out[n]) == 0)
            n++;
    globfree(&g);
    for (i = 1; i < n; i++) /* insertion sort by peak */
        for (size_t k = i; k > 0 && ms_max_heap(&out[k]) > ms_max_heap(&out[k - 1]); k--) {
            struct ms_file t = out[k];
            out[k] = out[k - 1];
            out[k - 1] = t;
        }
    return n;
}

/* The top-level sites of a detailed snapshot holding at least 1 % of its heap, largest first. */
static size_t top_sites(const struct ms_snap *s, const char **out, size_t max)
{
    size_t i, n = 0;

    for (i = 0; i < s->nnodes && n < max; i++)
        if (s->nodes[i].depth == 1 && strcmp(s->nodes[i].what, "places") != 0 &&
            s->nodes[i].bytes * 100 >= s->heap)
            out[n++] = s->nodes[i].what;
    return n;
}

/* s's function name less template arguments, up to its location "(" at loc. */
static void bare_name(const char *s, const char *loc, char *out, size_t len)
{
    size_t n = 0;
    int depth = 0;

    for (; s < loc && n + 1 < len; s++) {
        if (*s == '<')
            depth++;
        else if (*s == '>' && depth)
            depth--;
        else if (!depth)
            out[n++] = *s;
    }
    out[n] = '\0';
}

/* One frame as massif describes it and as memwalk does: the same "(file:line)" or "(in obj)",
 * and massif's function name in memwalk's. (An inlined call is named by DWARF's short name in
 * massif, "emplace_back<long int>", and by its full name in memwalk: the short name less its
 * template arguments is part of the full one's.) */
static int same_frame(const char *mw, const char *vg)
{
    const char *ml = strrchr(mw, '('), *vl = strrchr(vg, '(');
    char a[1024], b[1024];

    if (strcmp(mw, vg) == 0)
        return 1;
    if (!ml || !vl || strcmp(ml, vl) != 0)
        return 0;
    bare_name(mw, ml, a, sizeof a);
    bare_name(vg, vl, b, sizeof b);
    while (strlen(b) && b[strlen(b) - 1] == ' ')
        b[strlen(b) - 1] = '\0';
    return strstr(a, b) != NULL;
}

static void compare(const struct ms_file *vg, const struct ms_file *mw, const char *what)
{
    const struct ms_snap *vp = ms_peak(vg), *mp = ms_peak(mw);
    const char *vs[16], *ms[16];
    size_t nv, nm, i;

    cr_assert(vp && mp, "%s: a peak snapshot in both files", what);
    cr_assert_str_eq(mw->unit, "B");
    cr_assert(mp->heap * 100 >= vp->heap * 99 && mp->heap * 100 <= vp->heap * 101,
              "%s: peak %llu bytes, massif's %llu", what, (unsigned long long)mp->heap,
              (unsigned long long)vp->heap);
    cr_assert(ms_max_heap(mw) * 100 >= ms_max_heap(vg) * 99 &&
                  ms_max_heap(mw) * 100 <= ms_max_heap(vg) * 101,
              "%s: largest heap %llu, massif's %llu", what, (unsigned long long)ms_max_heap(mw),
              (unsigned long long)ms_max_heap(vg));
    nv = top_sites(vp, vs, 16);
    nm = top_sites(mp, ms, 16);
    cr_assert(nv > 0, "%s: massif shows sites", what);
    cr_assert_eq(nm, nv, "%s: %zu top sites, massif %zu (first: %s / %s)", what, nm, nv, ms[0],
                 vs[0]);
    for (i = 0; i < nv; i++)
        cr_assert(same_frame(ms[i], vs[i]), "%s: top site %zu: %s, massif: %s", what, i, ms[i],
                  vs[i]);
}

static void ms_print_reads(const char *path)
{
    char *argv[] = {"ms_print", (char *)path, NULL};

    run_ok(argv, NULL);
}

static void check_victim(const char *victim, size_t nprocs)
{
    char *dir = lk_tmpdir();
    struct ms_file vg[4], mw[4];
    size_t nv, nm, i;
    char path[512];
    glob_t g;

    profile_both(dir, victim);
    nv = read_all(dir, "vg", vg, 4);
    nm = read_all(dir, "mw", mw, 4);
    cr_assert_eq(nv, nprocs, "%s: massif wrote %zu files", victim, nv);
    cr_assert_eq(nm, nprocs, "%s: memwalk heap wrote %zu profiles, massif %zu", victim, nm, nv);
    for (i = 0; i < nv; i++)
        compare(&vg[i], &mw[i], victim);
    snprintf(path, sizeof path, "%s/mw.[0-9]*", dir);
    cr_assert_eq(glob(path, 0, NULL, &g), 0);
    for (i = 0; i < g.gl_pathc; i++)
        ms_print_reads(g.gl_pathv[i]);
    globfree(&g);
    for (i = 0; i < nv; i++)
        ms_free(&vg[i]);
    for (i = 0; i < nm; i++)
        ms_free(&mw[i]);
    lk_cleanup(dir);
}

Test(heap_oracle, phases_peak_and_sites_as_massif, .timeout = TIMEOUT)
{
    check_victim("phases", 1);
}

Test(heap_oracle, cxx_new_and_vectors_as_massif, .timeout = TIMEOUT)
{
    check_victim("cxx_phases", 1);
}

Test(heap_oracle, threads_as_massif, .timeout = TIMEOUT)
{
    check_victim("threads", 1);
}

Test(heap_oracle, sites_under_the_threshold_as_massif, .timeout = TIMEOUT)
{
    check_victim("many_sites", 1);
}

Test(heap_oracle, forked_child_has_its_own_profile_as_massif, .timeout = TIMEOUT)
{
    check_victim("forks", 2);
}

/* massif-visualizer (when installed: a KDE program, not a dependency of make check) loads
 * memwalk's file and finds its snapshots and its peak, as it reports on loading a file. */
Test(heap_oracle, massif_visualizer_reads_the_file, .timeout = TIMEOUT)
{
    char *dir, cmd[2048], *log, want[128];
    struct ms_file f;
    const struct ms_snap *peak;

    if (system("command -v massif-visualizer >/dev/null && command -v xvfb-run >/dev/null") != 0)
        cr_skip_test("massif-visualizer or xvfb-run is not installed");
    dir = lk_tmpdir();
    snprintf(cmd, sizeof cmd,
             "%s heap -q --time-unit=B --massif-out-file=%s/m.out %s/cxx_phases >/dev/null && "
             "{ setsid timeout -s TERM 30 xvfb-run -a massif-visualizer %s/m.out >%s/log 2>&1 & "
             "pid=$!; i=0; while [ $i -lt 300 ] && ! grep -q 'peak: snapshot' %s/log; do "
             "sleep 0.1; i=$((i + 1)); done; kill -TERM -$pid; wait; } 2>/dev/null",
             MS_MEMWALK, dir, MS_VICTIMS, dir, dir, dir);
    /* The window stays open: once the log says the peak (or after 30 s), it is closed. */
    (void)system(cmd);
    cr_assert_eq(ms_read(tmp_path(dir, "m.out"), &f), 0);
    peak = ms_peak(&f);
    cr_assert(peak);
    log = lk_slurp(tmp_path(dir, "log"));
    cr_assert(log);
    snprintf(want, sizeof want, "snapshots: %zu", f.nsnaps);
    cr_assert(strstr(log, want), "%s in:\n%s", want, log);
    snprintf(want, sizeof want, "peak: snapshot # %zu ", (size_t)(peak - f.snaps));
    cr_assert(strstr(log, want), "%s in:\n%s", want, log);
    free(log);
    ms_free(&f);
    lk_cleanup(dir);
}
