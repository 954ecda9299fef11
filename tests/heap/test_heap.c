/* Unit tests of `memwalk heap`: the profile stream's reader, massif's trees, the massif.out
 * writer and the SVG, then the command itself on the victims (its exit statuses, files, what it
 * must not change in the program). The comparisons with massif are in oracle.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../leaks/harness.h"
#include "cli/heap_int.h"
#include "massif.h"

#define TIMEOUT 120

/* ---- a profile stream built by hand ------------------------------------------------------ */
struct stream {
    unsigned char buf[8192];
    size_t len;
};

static void put(struct stream *s, const void *p, size_t n)
{
    cr_assert(s->len + n <= sizeof s->buf);
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

/* Two stacks (frame 0 is the allocation function), three snapshots: empty, detailed, peak. */
static void sample(struct stream *s)
{
    mw__prof_head_t h = {0};
    uint64_t st0[] = {0x1000, 0x2001, 0x3001}, st1[] = {0x1000, 0x2101, 0x3001};
    uint32_t d[2] = {3, 0};
    mw__prof_snap_t sn;
    mw__prof_site_t site;

    memset(s, 0, sizeof *s);
    h.magic = MW__PROF_MAGIC;
    h.version = MW__PROF_VERSION;
    h.unit = MW__PROF_UNIT_B;
    h.nsnaps = 3;
    h.ntraces = 2;
    h.detailed_freq = 10;
    h.max_snapshots = 100;
    h.peak_milli = 1000;
    h.heap_admin = 8;
    put(s, &h, sizeof h);
    put(s, d, sizeof d);
    put(s, st0, sizeof st0);
    put(s, d, sizeof d);
    put(s, st1, sizeof st1);
    sn = (mw__prof_snap_t){0, 0, 0, 0, 0};
    put(s, &sn, sizeof sn);
    sn = (mw__prof_snap_t){MW__PROF_DETAILED | MW__PROF_SITES, 2, 100, 1000, 40};
    put(s, &sn, sizeof sn);
    site = (mw__prof_site_t){0, 0, 990};
    put(s, &site, sizeof site);
    site = (mw__prof_site_t){1, 0, 10};
    put(s, &site, sizeof site);
    sn = (mw__prof_snap_t){MW__PROF_DETAILED | MW__PROF_SITES | MW__PROF_PEAK, 2, 200, 3000, 80};
    put(s, &sn, sizeof sn);
    site = (mw__prof_site_t){0, 0, 2000};
    put(s, &site, sizeof site);
    site = (mw__prof_site_t){1, 0, 1000};
    put(s, &site, sizeof site);
}

Test(heap_stream, reads_what_the_tracer_writes)
{
    struct stream s;
    struct hp_profile p;

    sample(&s);
    cr_assert_eq(hp_profile_parse(s.buf, s.len, &p), 0);
    cr_assert_eq(p.h.nsnaps, 3);
    cr_assert_eq(p.depth[1], 3);
    cr_assert_eq(p.ips[1][1], 0x2101);
    cr_assert_eq(p.snaps[2].sites[1].bytes, 1000);
    cr_assert_eq(hp_peak(&p), &p.snaps[2]);
    cr_assert_str_eq(hp_unit_name(&p), "B");
    hp_profile_free(&p);
}

/* A block one thread allocated and another freed can have its free counted first: its site
 * reads below zero for a while. The reader gives massif's view: the site at 0, the heap short
 * of nothing (ms_print refuses a tree node larger than the heap). */
Test(heap_stream, a_site_below_zero_reads_as_zero)
{
    struct stream s;
    struct hp_profile p;
    mw__prof_head_t h = {0};
    uint64_t st0[] = {0x1000, 0x2001}, st1[] = {0x1000, 0x2101};
    uint32_t d[2] = {2, 0};
    mw__prof_snap_t sn = {MW__PROF_DETAILED | MW__PROF_SITES | MW__PROF_PEAK, 2, 100, 1000, 40};
    mw__prof_site_t big = {0, 0, 1007}, below = {1, 0, (uint64_t)-7};

    memset(&s, 0, sizeof s);
    h.magic = MW__PROF_MAGIC;
    h.version = MW__PROF_VERSION;
    h.unit = MW__PROF_UNIT_B;
    h.nsnaps = 1;
    h.ntraces = 2;
    put(&s, &h, sizeof h);
    put(&s, d, sizeof d);
    put(&s, st0, sizeof st0);
    put(&s, d, sizeof d);
    put(&s, st1, sizeof st1);
    put(&s, &sn, sizeof sn);
    put(&s, &big, sizeof big);
    put(&s, &below, sizeof below);
    cr_assert_eq(hp_profile_parse(s.buf, s.len, &p), 0);
    cr_assert_eq(p.snaps[0].sites[1].bytes, 0);
    cr_assert_eq(p.snaps[0].sites[0].bytes, 1007);
    cr_assert_eq(p.snaps[0].h.heap, 1007, "heap %llu", (unsigned long long)p.snaps[0].h.heap);
    hp_profile_free(&p);
}

Test(heap_stream, damaged_streams_are_refused)
{
    struct stream s;
    struct hp_profile p;
    size_t cut;

    sample(&s);
    for (cut = 0; cut < s.len; cut += 7)
        cr_assert_eq(hp_profile_parse(s.buf, cut, &p), -EINVAL, "cut at %zu", cut);
    s.buf[0] ^= 1; /* magic */
    cr_assert_eq(hp_profile_parse(s.buf, s.len, &p), -EINVAL);
    sample(&s);
    /* the last site names a stack that is not there */
    s.buf[s.len - sizeof(mw__prof_site_t)] = 9;
    cr_assert_eq(hp_profile_parse(s.buf, s.len, &p), -EINVAL);
}

/* ---- trees -------------------------------------------------------------------------------- */
Test(heap_tree, groups_by_frame_and_merges_what_is_under_the_threshold)
{
    struct stream s;
    struct hp_profile p;
    struct hp_stacks st = {0};
    static const uint64_t a[] = {0x10, 0x20}, b[] = {0x10, 0x30}, c[] = {0x40}, d[] = {0x50};
    const uint64_t *ips[4] = {a, b, c, d};
    uint32_t n[4] = {2, 2, 1, 1};
    mw__prof_site_t sites[4] = {{0, 0, 600}, {1, 0, 300}, {2, 0, 5}, {3, 0, 95}};
    struct hp_snap snap = {{MW__PROF_DETAILED, 4, 0, 1000, 0}, sites};
    struct hp_node *t;

    sample(&s);
    cr_assert_eq(hp_profile_parse(s.buf, s.len, &p), 0);
    st.ips = ips;
    st.n = n;
    t = hp_tree_make(&p, &snap, &st, 1.0);
    cr_assert(t);
    cr_assert_eq(t->bytes, 1000);
    cr_assert_eq(t->nkids, 3, "0x10, 0x50, and 0x40 under 1 %%");
    cr_assert_eq(t->kids[0].ip, 0x10);
    cr_assert_eq(t->kids[0].bytes, 900);
    cr_assert_eq(t->kids[0].nkids, 2);
    cr_assert_eq(t->kids[0].kids[0].ip, 0x20, "largest first");
    cr_assert_eq(t->kids[1].ip, 0x50);
    cr_assert_eq(t->kids[2].places, 1);
    cr_assert_eq(t->kids[2].bytes, 5);
    hp_tree_free(t);
    t = hp_tree_make(&p, &snap, &st, 0.0);
    cr_assert_eq(t->nkids, 3);
    cr_assert_eq(t->kids[2].ip, 0x40, "nothing merged at threshold 0");
    hp_tree_free(t);
    hp_profile_free(&p);
}

/* ---- the massif.out writer ---------------------------------------------------------------- */
static char *tmp_path(const char *dir, const char *name)
{
    static char path[4][512];
    static int k;

    snprintf(path[k & 3], sizeof path[0], "%s/%s", dir, name);
    return path[k++ & 3];
}

Test(heap_massif, writes_what_ms_print_reads)
{
    struct stream s;
    struct hp_profile p;
    struct hp_stacks st = {0};
    struct hp_names names = {NULL, 30};
    lk_sym_t *sym = lk_sym_new(NULL, 0, NULL);
    char *dir = lk_tmpdir(), *argv[] = {"prog", "arg", NULL};
    struct hp_massif_opts o = {"--time-unit=B", argv, 2, 1.0};
    struct ms_file f;
    FILE *out;

    sample(&s);
    cr_assert_eq(hp_profile_parse(s.buf, s.len, &p), 0);
    cr_assert_eq(hp_stacks_make(&p, sym, &names, &st), 0);
    cr_assert_eq(st.n[0], 2, "the allocation function is no frame of the tree");
    out = fopen(tmp_path(dir, "m.out"), "w");
    cr_assert_eq(hp_massif_write(out, &p, &st, sym, &o), 0);
    fclose(out);
    cr_assert_eq(ms_read(tmp_path(dir, "m.out"), &f), 0);
    cr_assert_str_eq(f.desc, "--time-unit=B");
    cr_assert_str_eq(f.cmd, "prog arg");
    cr_assert_eq(f.nsnaps, 3);
    cr_assert(f.snaps[2].peak);
    cr_assert_eq(f.snaps[2].heap, 3000);
    cr_assert_eq(f.snaps[2].nodes[0].nkids, 2);
    {
        char *ms[] = {"ms_print", tmp_path(dir, "m.out"), NULL};
        int stt = lk_run(ms, LK_STDOUT_NULL, NULL, TIMEOUT);
        cr_assert(WIFEXITED(stt) && WEXITSTATUS(stt) == 0, "ms_print reads it");
    }
    ms_free(&f);
    hp_stacks_free(&st);
    lk_sym_free(sym);
    hp_profile_free(&p);
    lk_cleanup(dir);
}

/* ---- the command ------------------------------------------------------------------------- */
/* Runs memwalk heap with args (NULL-terminated, after "heap") on victim (NULL: args name the
 * program), stderr to dir/err; returns the wait status. */
static int heap(const char *dir, const char *const *args)
{
    char *argv[32];
    int n = 0;

    argv[n++] = MS_MEMWALK;
    argv[n++] = "heap";
    while (*args && n < 30)
        argv[n++] = (char *)*args++;
    argv[n] = NULL;
    return lk_run(argv, LK_STDOUT_NULL, tmp_path(dir, "err"), TIMEOUT);
}

static int exit_code(int st)
{
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *victim(const char *name)
{
    static char path[4][512];
    static int k;

    snprintf(path[k & 3], sizeof path[0], "%s/%s", MS_VICTIMS, name);
    return path[k++ & 3];
}

static char *out_opt(const char *dir, const char *name)
{
    static char opt[4][600];
    static int k;

    snprintf(opt[k & 3], sizeof opt[0], "--massif-out-file=%s/%s", dir, name);
    return opt[k++ & 3];
}

static int count_files(const char *dir, const char *pattern)
{
    glob_t g;
    int n;

    if (glob(tmp_path(dir, pattern), 0, NULL, &g) != 0)
        return 0;
    n = (int)g.gl_pathc;
    globfree(&g);
    return n;
}

Test(heap_command, phases_peak_is_exact, .timeout = TIMEOUT)
{
    char *dir = lk_tmpdir(), *err;
    const char *args[] = {"--time-unit=B", out_opt(dir, "m.out"), victim("phases"), NULL};
    struct ms_file f;

    cr_assert_eq(exit_code(heap(dir, args)), 0);
    cr_assert_eq(ms_read(tmp_path(dir, "m.out"), &f), 0);
    /* 300 rows of 8,192, 100 indexes of 2,048 and the 100-byte block: the peak, to the byte */
    cr_assert_eq(ms_peak(&f)->heap, 300 * 8192 + 100 * 2048 + 100);
    cr_assert_eq(ms_peak(&f)->extra, 401 * 8 + 12, "massif's extra: 8 a block and rounding");
    cr_assert_str_eq(f.unit, "B");
    err = lk_slurp(tmp_path(dir, "err"));
    cr_assert(strstr(err, "Heap peak: 2,662,500 bytes useful + 3,220 extra"), "%s", err);
    cr_assert(strstr(err, "make_row"), "the top site is named: %s", err);
    free(err);
    ms_free(&f);
    lk_cleanup(dir);
}

Test(heap_command, threads_peak_is_their_sum, .timeout = TIMEOUT)
{
    char *dir = lk_tmpdir();
    const char *args[] = {"--time-unit=B", "--peak-inaccuracy=0", out_opt(dir, "m.out"),
                          victim("threads"), NULL};
    struct ms_file f;
    const uint64_t built = 4 * (96 * 4096 + 32 * 16384) + 4 * 64;

    cr_assert_eq(exit_code(heap(dir, args)), 0);
    cr_assert_eq(ms_read(tmp_path(dir, "m.out"), &f), 0);
    /* the threads' own descriptors add a little (their TLS), nothing else */
    cr_assert(ms_peak(&f)->heap >= built && ms_peak(&f)->heap <= built + built / 100,
              "peak %llu, built %llu", (unsigned long long)ms_peak(&f)->heap,
              (unsigned long long)built);
    ms_free(&f);
    lk_cleanup(dir);
}

Test(heap_command, milliseconds_by_default, .timeout = TIMEOUT)
{
    char *dir = lk_tmpdir();
    const char *args[] = {out_opt(dir, "m.out"), victim("phases"), NULL};
    struct ms_file f;
    size_t i;

    cr_assert_eq(exit_code(heap(dir, args)), 0);
    cr_assert_eq(ms_read(tmp_path(dir, "m.out"), &f), 0);
    cr_assert_str_eq(f.unit, "ms");
    cr_assert_eq(strncmp(f.desc, "--massif-out-file=", 18), 0, "desc: %s", f.desc);
    for (i = 1; i < f.nsnaps; i++)
        cr_assert_geq(f.snaps[i].time, f.snaps[i - 1].time);
    cr_assert_eq(ms_max_heap(&f), 300 * 8192 + 100 * 2048 + 100);
    ms_free(&f);
    lk_cleanup(dir);
}

Test(heap_command, pid_in_the_file_name_and_a_profile_per_process, .timeout = TIMEOUT)
{
    char *dir = lk_tmpdir();
    const char *args[] = {out_opt(dir, "m.%p"), victim("forks"), NULL};

    cr_assert_eq(exit_code(heap(dir, args)), 0, "the program's own status");
    cr_assert_eq(count_files(dir, "m.[0-9]*"), 2, "the forked child's profile too");
    lk_cleanup(dir);
}

Test(heap_command, an_executed_program_has_its_own_cmd_line, .timeout = TIMEOUT)
{
    char *dir = lk_tmpdir(), expect[600];
    const char *args[] = {"--trace-children=yes",
                          "--time-unit=B",
                          out_opt(dir, "m.%p"),
                          "/usr/bin/env",
                          victim("phases"),
                          "one",
                          NULL};
    glob_t g;
    struct ms_file f;

    cr_assert_eq(exit_code(heap(dir, args)), 0);
    cr_assert_eq(glob(tmp_path(dir, "m.[0-9]*"), 0, NULL, &g), 0);
    cr_assert_eq(g.gl_pathc, 1, "env executed phases in its place: one process, one profile");
    cr_assert_eq(ms_read(g.gl_pathv[0], &f), 0);
    globfree(&g);
    /* massif's cmd: line names the program env executed, as execve was given it */
    snprintf(expect, sizeof expect, "%s one", victim("phases"));
    cr_assert_str_eq(f.cmd, expect);
    cr_assert_eq(ms_peak(&f)->heap, 300 * 8192 + 100 * 2048 + 100, "phases' own peak");
    ms_free(&f);
    lk_cleanup(dir);
}

Test(heap_command, svg_is_valid_xml_with_the_sites, .timeout = TIMEOUT)
{
    char *dir = lk_tmpdir(), *svg;
    char opt[600];
    const char *args[] = {"--time-unit=B", out_opt(dir, "m.out"), opt, victim("phases"), NULL};

    snprintf(opt, sizeof opt, "--svg=%s/h.svg", dir);
    cr_assert_eq(exit_code(heap(dir, args)), 0);
    svg = lk_slurp(tmp_path(dir, "h.svg"));
    cr_assert(svg && strstr(svg, "<svg") && strstr(svg, "peak "));
    cr_assert(strstr(svg, "make_row"), "the largest site in the legend");
    cr_assert(strstr(svg, "grow (phases.c"), "the second phase's site too");
    {
        char *x[] = {"xmllint", "--noout", tmp_path(dir, "h.svg"), NULL};
        cr_assert_eq(exit_code(lk_run(x, LK_STDOUT_NULL, NULL, TIMEOUT)), 0);
    }
    free(svg);
    lk_cleanup(dir);
}

Test(heap_command, program_status_and_signals_pass_through, .timeout = TIMEOUT)
{
    char *dir = lk_tmpdir(), *err;
    const char *st[] = {out_opt(dir, "a.out"), victim("exits"), "status", "3", NULL};
    const char *sig[] = {out_opt(dir, "b.out"), victim("exits"), "signal", "15", NULL};
    const char *ex[] = {out_opt(dir, "c.out"), victim("exits"), "exec", NULL};
    struct ms_file f;

    cr_assert_eq(exit_code(heap(dir, st)), 3);
    cr_assert_eq(ms_read(tmp_path(dir, "a.out"), &f), 0);
    ms_free(&f);
    cr_assert_eq(exit_code(heap(dir, sig)), 128 + 15);
    cr_assert_eq(ms_read(tmp_path(dir, "b.out"), &f), 0, "a profile at a fatal signal");
    ms_free(&f);
    cr_assert_eq(exit_code(heap(dir, ex)), 0);
    err = lk_slurp(tmp_path(dir, "err"));
    cr_assert(strstr(err, "no heap profile from"), "%s", err);
    cr_assert_eq(access(tmp_path(dir, "c.out"), F_OK), -1);
    free(err);
    lk_cleanup(dir);
}

Test(heap_command, errno_is_the_programs, .timeout = TIMEOUT)
{
    char *dir = lk_tmpdir();
    const char *args[] = {out_opt(dir, "m.out"), victim("errno_kept"), NULL};

    cr_assert_eq(exit_code(heap(dir, args)), 0);
    lk_cleanup(dir);
}

Test(heap_command, quiet_prints_nothing, .timeout = TIMEOUT)
{
    char *dir = lk_tmpdir(), *err;
    const char *args[] = {"-q", out_opt(dir, "m.out"), victim("phases"), NULL};

    cr_assert_eq(exit_code(heap(dir, args)), 0);
    err = lk_slurp(tmp_path(dir, "err"));
    cr_assert_str_eq(err, "");
    free(err);
    lk_cleanup(dir);
}

Test(heap_command, unwritable_profile_is_status_3, .timeout = TIMEOUT)
{
    char *dir = lk_tmpdir(), *err;
    const char *args[] = {"--massif-out-file=/nonexistent/dir/m.out", victim("phases"), NULL};

    cr_assert_eq(exit_code(heap(dir, args)), 3);
    err = lk_slurp(tmp_path(dir, "err"));
    cr_assert(strstr(err, "memwalk: heap: /nonexistent/dir/m.out: No such file or directory"), "%s",
              err);
    free(err);
    lk_cleanup(dir);
}

Test(heap_command, bad_usage_is_status_2)
{
    char *dir = lk_tmpdir(), *err;
    static const char *const cases[][3] = {
        {"--time-unit=i", "x", NULL},
        {"--max-snapshots=5", "x", NULL},
        {"--threshold=101", "x", NULL},
        {"--peak-inaccuracy=abc", "x", NULL},
        {"--depth=0", "x", NULL},
        {"--top=99", "x", NULL},
        {"--no-such-option", "x", NULL},
        {"--trace-children=maybe", "x", NULL},
        {"-q", NULL, NULL},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(exit_code(heap(dir, cases[i])), 2, "%s", cases[i][0]);
    {
        const char *a[] = {"--time-unit=i", "x", NULL};
        heap(dir, a);
        err = lk_slurp(tmp_path(dir, "err"));
        cr_assert(strstr(err, "memwalk: heap: --time-unit: 'i': expected ms or B"), "%s", err);
        free(err);
    }
    lk_cleanup(dir);
}

Test(heap_command, programs_that_cannot_run)
{
    char *dir = lk_tmpdir();
    const char *missing[] = {"/nonexistent/program", NULL}, *isdir[] = {"/tmp", NULL};

    cr_assert_eq(exit_code(heap(dir, missing)), 127);
    cr_assert_eq(exit_code(heap(dir, isdir)), 126);
    lk_cleanup(dir);
}

Test(heap_command, help_names_the_options)
{
    FILE *f = popen(MS_MEMWALK " help heap", "r");
    char *out = calloc(1, 65536);

    cr_assert(f && out);
    cr_assert_gt(fread(out, 1, 65535, f), 0);
    cr_assert_eq(exit_code(pclose(f)), 0);
    cr_assert(strstr(out, "--time-unit=ms|B") && strstr(out, "--massif-out-file") &&
              strstr(out, "--svg"));
    free(out);
}

Test(heap_command, alloc_fn_shows_the_callers, .timeout = TIMEOUT)
{
    char *dir = lk_tmpdir(), *text;
    const char *plain[] = {"--time-unit=B", "--detailed-freq=1", out_opt(dir, "a.out"),
                           victim("phases"), NULL};
    const char *fn[] = {"--time-unit=B",       "--detailed-freq=1", "--alloc-fn=grow",
                        out_opt(dir, "b.out"), victim("phases"),    NULL};

    cr_assert_eq(exit_code(heap(dir, plain)), 0);
    text = lk_slurp(tmp_path(dir, "a.out"));
    cr_assert(strstr(text, ": grow (phases.c:"), "the realloc site is grow without the option");
    free(text);
    cr_assert_eq(exit_code(heap(dir, fn)), 0);
    text = lk_slurp(tmp_path(dir, "b.out"));
    cr_assert(!strstr(text, ": grow (phases.c:"), "grow is an allocation function now");
    cr_assert(strstr(text, "desc: --time-unit=B --detailed-freq=1 --alloc-fn=grow"), "%.200s",
              text);
    free(text);
    lk_cleanup(dir);
}
