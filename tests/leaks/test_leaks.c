/* Unit tests of `memwalk leaks`' helpers (kinds, number format, suppressions, the result
 * format) and of its command line; fast enough to run with both compilers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/leaks_int.h"

#define MEMWALK            MW_BUILD_DIR "/memwalk"
#define LK_VICTIM_DEFINITE MW_BUILD_DIR "/tests/leaks/victims/definite_one"

Test(leaks_kinds, comma_list_sets_each_kind)
{
    unsigned m = 0;

    cr_assert_eq(lk_parse_kinds("definite,possible", &m), 0);
    cr_assert_eq(m, (1u << MW__LEAK_DEFINITE) | (1u << MW__LEAK_POSSIBLE));
    cr_assert_eq(lk_parse_kinds("reachable", &m), 0);
    cr_assert_eq(m, 1u << MW__LEAK_REACHABLE);
}

Test(leaks_kinds, all_and_none)
{
    unsigned m = 0;

    cr_assert_eq(lk_parse_kinds("all", &m), 0);
    cr_assert_eq(m, LK_KIND_ALL);
    cr_assert_eq(lk_parse_kinds("none", &m), 0);
    cr_assert_eq(m, 0);
}

Test(leaks_kinds, bad_words_are_rejected)
{
    unsigned m = 7;

    cr_assert_eq(lk_parse_kinds("definitely", &m), -EINVAL);
    cr_assert_eq(lk_parse_kinds("definite,", &m), -EINVAL);
    cr_assert_eq(lk_parse_kinds("", &m), -EINVAL);
    cr_assert_eq(lk_parse_kinds(",possible", &m), -EINVAL);
    cr_assert_eq(m, 7, "output written only on success");
}

Test(leaks_format, thousands_separators_as_memcheck)
{
    char b[32];

    cr_assert_str_eq(lk_commas(0, b, sizeof b), "0");
    cr_assert_str_eq(lk_commas(999, b, sizeof b), "999");
    cr_assert_str_eq(lk_commas(1040, b, sizeof b), "1,040");
    cr_assert_str_eq(lk_commas(1234567, b, sizeof b), "1,234,567");
}

static struct lk_frame fr(const char *fn, const char *module)
{
    struct lk_frame f;

    memset(&f, 0, sizeof f);
    f.fn = f.fn_raw = fn;
    f.module = module;
    f.mod = -1;
    return f;
}

Test(leaks_supp, memcheck_file_loads_and_matches_with_wildcards)
{
    lk_supp_t *s = NULL;
    char err[256];
    struct lk_frame st[3] = {fr("malloc", "/x/libmemwalk-leak.so"), fr("cache_get", "/a.out"),
                             fr("main", "/a.out")};

    cr_assert_eq(lk_supp_load(&s, MW_SRC_DIR "/tests/leaks/fixtures/good.supp", err, sizeof err), 0,
                 "%s", err);
    cr_assert(lk_supp_match_frames(s, st, 3, MW__LEAK_REACHABLE));
    lk_supp_free(s);
}

Test(leaks_supp, match_leak_kinds_limits_the_kinds)
{
    lk_supp_t *s = NULL;
    char err[256];
    struct lk_frame st[2] = {fr("malloc", "/x/libmemwalk-leak.so"), fr("cache_get", "/a.out")};

    cr_assert_eq(lk_supp_load(&s, MW_SRC_DIR "/tests/leaks/fixtures/good.supp", err, sizeof err),
                 0);
    cr_assert_not(lk_supp_match_frames(s, st, 2, MW__LEAK_DEFINITE));
    lk_supp_free(s);
}

Test(leaks_supp, ellipsis_spans_frames_before_an_obj_line)
{
    lk_supp_t *s = NULL;
    char err[256];
    struct lk_frame st[4] = {fr("malloc", "/x/libmemwalk-leak.so"), fr("a", "/bin/p"),
                             fr("b", "/bin/p"), fr(NULL, "/usr/lib/libfoo.so.1")};

    cr_assert_eq(lk_supp_load(&s, MW_SRC_DIR "/tests/leaks/fixtures/good.supp", err, sizeof err),
                 0);
    cr_assert(lk_supp_match_frames(s, st, 4, MW__LEAK_DEFINITE));
    cr_assert_not(lk_supp_match_frames(s, st, 3, MW__LEAK_DEFINITE), "libfoo frame missing");
    lk_supp_free(s);
}

Test(leaks_supp, other_error_kinds_are_ignored)
{
    lk_supp_t *s = NULL;
    char err[256];
    struct lk_frame st[1] = {fr("strlen", "/lib/libc.so.6")};

    cr_assert_eq(lk_supp_load(&s, MW_SRC_DIR "/tests/leaks/fixtures/good.supp", err, sizeof err),
                 0);
    cr_assert_not(lk_supp_match_frames(s, st, 1, MW__LEAK_DEFINITE));
    lk_supp_free(s);
}

Test(leaks_supp, syntax_error_names_the_line)
{
    lk_supp_t *s = NULL;
    char err[256];

    cr_assert_eq(lk_supp_load(&s, MW_SRC_DIR "/tests/leaks/fixtures/bad.supp", err, sizeof err),
                 -EINVAL);
    cr_assert(strstr(err, "line 4"), "%s", err);
    lk_supp_free(s);
}

Test(leaks_supp, unterminated_entry_is_an_error)
{
    lk_supp_t *s = NULL;
    char err[256];

    cr_assert_eq(
        lk_supp_load(&s, MW_SRC_DIR "/tests/leaks/fixtures/unterminated.supp", err, sizeof err),
        -EINVAL);
    cr_assert(strstr(err, "unterminated"), "%s", err);
    lk_supp_free(s);
}

Test(leaks_supp, missing_file_gives_enoent)
{
    lk_supp_t *s = NULL;
    char err[256];

    cr_assert_eq(lk_supp_load(&s, "/nonexistent/x.supp", err, sizeof err), -ENOENT);
    lk_supp_free(s);
}

/* ---- memcheck's names --------------------------------------------------------------------- */
static const char *pick(const char *const *names, size_t n)
{
    const char *best = names[0];
    size_t i;

    for (i = 1; i < n; i++)
        if (!lk_sym_prefer(best, names[i]))
            best = names[i];
    return best;
}

Test(leaks_names, the_shortest_alias_wins_as_in_memcheck)
{
    const char *strdup_names[] = {"__GI___strdup", "__strdup", "strdup"};
    const char *asprintf_names[] = {"__asprintf", "asprintf", "___asprintf"};
    const char *memcmp_names[] = {"memcmp", "bcmp"}; /* memcheck's own FAQ: bcmp wins */

    cr_assert_str_eq(pick(strdup_names, 3), "strdup");
    cr_assert_str_eq(pick(asprintf_names, 3), "asprintf");
    cr_assert_str_eq(pick(memcmp_names, 2), "bcmp");
}

Test(leaks_names, versions_do_not_count_and_win_ties)
{
    const char *start[] = {"__libc_start_main_alias_2", "__libc_start_main_impl",
                           "__libc_start_main@GLIBC_2.2.5", "__libc_start_main@@GLIBC_2.34"};
    const char *pc[] = {"pthread_cond_wait@GLIBC_2.2.5", "pthread_cond_wait@@GLIBC_2.3.2"};

    cr_assert_str_eq(pick(start, 4), "__libc_start_main@@GLIBC_2.34");
    cr_assert_str_eq(pick(pc, 2), "pthread_cond_wait@@GLIBC_2.3.2");
    cr_assert(lk_sym_prefer("foo@@V1", "foo"), "versioned wins at equal length");
    cr_assert(lk_sym_prefer("x", ""), "a name beats none");
    cr_assert(lk_sym_prefer("PMPI_Send", "MPI_Send"));
}

Test(leaks_names, main_and_below_main)
{
    cr_assert_eq(lk_fn_kind("main"), LK_FN_MAIN);
    cr_assert_eq(lk_fn_kind("__libc_start_call_main"), LK_FN_BELOW_MAIN);
    cr_assert_eq(lk_fn_kind("__libc_start_main"), LK_FN_BELOW_MAIN);
    cr_assert_eq(lk_fn_kind("__libc_start_main.isra.0"), LK_FN_BELOW_MAIN);
    cr_assert_eq(lk_fn_kind("_start"), LK_FN_BELOW_MAIN);
    cr_assert_eq(lk_fn_kind("(below main)"), LK_FN_BELOW_MAIN);
    cr_assert_eq(lk_fn_kind("__libc_start_main@@GLIBC_2.34"), LK_FN_NORMAL, "as memcheck");
    cr_assert_eq(lk_fn_kind("mainly"), LK_FN_NORMAL);
    cr_assert_eq(lk_fn_kind(NULL), LK_FN_NORMAL);
}

Test(leaks_names, entry_points_as_valgrind_shows_them)
{
    const char *n[2];
    int g, g2;

    cr_assert_eq(lk_entry_frames("malloc", n, &g), 1);
    cr_assert_str_eq(n[0], "malloc");
    cr_assert_eq(lk_entry_frames("aligned_alloc", n, &g), 1);
    cr_assert_str_eq(n[0], "memalign");
    cr_assert_eq(lk_entry_frames("valloc", n, &g), 1);
    cr_assert_str_eq(n[0], "memalign");
    cr_assert_eq(lk_entry_frames("reallocarray", n, &g), 1);
    cr_assert_str_eq(n[0], "realloc");
    cr_assert_eq(lk_entry_frames("__libc_malloc", n, &g), 1);
    cr_assert_str_eq(n[0], "malloc");
    cr_assert_eq(lk_entry_frames("posix_memalign", n, &g), 2);
    cr_assert_str_eq(n[0], "memalign");
    cr_assert_str_eq(n[1], "posix_memalign");
    cr_assert_eq(lk_entry_frames("_Znwm", n, &g), 1);
    cr_assert_str_eq(n[0], "_Znwm", "C++ operators keep their (mangled) symbol");
    cr_assert_eq(lk_entry_frames(NULL, n, &g), 1);
    cr_assert_null(n[0]);
    /* valloc's memalign is not aligned_alloc's: two functions of valgrind's, one name. */
    lk_entry_frames("valloc", n, &g);
    lk_entry_frames("aligned_alloc", n, &g2);
    cr_assert_neq(g, g2);
    lk_entry_frames("memalign", n, &g2);
    cr_assert_neq(g, g2);
}

Test(leaks_names, command_line_escaped_as_memcheck)
{
    mw__sb_t sb = {0};
    char *s;

    lk_command_arg(&sb, "a b\\c<d>e\"f'g\t\xc3\xa9");
    s = mw__sb_take(&sb);
    cr_assert_str_eq(s, "a\\ b\\\\c\\<d\\>e\"f'g___");
    free(s);
}

/* ---- suppressions: what memcheck matches ------------------------------------------------------
 */
static lk_supp_t *supp_from(const char *text)
{
    char path[] = "/tmp/memwalk-supp.XXXXXX", err[256];
    int fd = mkstemp(path);
    lk_supp_t *s = NULL;

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    cr_assert_eq(lk_supp_load(&s, path, err, sizeof err), 0, "%s", err);
    unlink(path);
    return s;
}

Test(leaks_supp, fun_lines_match_mangled_names_not_printed_ones)
{
    lk_supp_t *s = supp_from("{\n x\n Memcheck:Leak\n fun:_Znwm\n fun:_ZN2ns4makeEi\n}\n");
    struct lk_frame st[2] = {fr("operator new(unsigned long)", "/p"), fr("ns::make(int)", "/p")};

    st[0].fn_raw = "_Znwm";
    st[1].fn_raw = "_ZN2ns4makeEi";
    cr_assert(lk_supp_match_frames(s, st, 2, MW__LEAK_DEFINITE));
    st[1].fn_raw = "ns::make(int)";
    cr_assert_not(lk_supp_match_frames(s, st, 2, MW__LEAK_DEFINITE));
    lk_supp_free(s);
}

Test(leaks_supp, src_lines_match_file_and_line)
{
    lk_supp_t *s = supp_from("{\n x\n Memcheck:Leak\n fun:malloc\n src:a*.c:42\n}\n");
    struct lk_frame st[2] = {fr("malloc", "/p"), fr("f", "/p")};

    st[1].file = "abc.c";
    st[1].line = 42;
    cr_assert(lk_supp_match_frames(s, st, 2, MW__LEAK_DEFINITE));
    st[1].line = 43;
    cr_assert_not(lk_supp_match_frames(s, st, 2, MW__LEAK_DEFINITE));
    st[1].file = NULL;
    cr_assert_not(lk_supp_match_frames(s, st, 2, MW__LEAK_DEFINITE), "no line info: no match");
    lk_supp_free(s);
}

Test(leaks_supp, valgrinds_clone_matches_clone3)
{
    lk_supp_t *s = supp_from("{\n x\n Memcheck:Leak\n fun:malloc\n fun:thr\n fun:start_thread\n"
                             " fun:clone\n}\n");
    struct lk_frame st[4] = {fr("malloc", "/p"), fr("thr", "/p"), fr("start_thread", "/c"),
                             fr("clone3", "/c")};

    cr_assert(lk_supp_match_frames(s, st, 4, MW__LEAK_DEFINITE));
    st[3].fn_raw = "clone4";
    cr_assert_not(lk_supp_match_frames(s, st, 4, MW__LEAK_DEFINITE));
    lk_supp_free(s);
}

Test(leaks_supp, a_longer_suppression_than_the_stack_does_not_match)
{
    lk_supp_t *s = supp_from("{\n x\n Memcheck:Leak\n fun:malloc\n fun:f\n fun:g\n}\n");
    struct lk_frame st[2] = {fr("malloc", "/p"), fr("f", "/p")};

    cr_assert_not(lk_supp_match_frames(s, st, 2, MW__LEAK_DEFINITE));
    lk_supp_free(s);
}

Test(leaks_supp, trailing_obj_star_lines_match_frames_past_the_stack_end)
{
    /* valgrind scanned past _start: "obj:*" for each garbage frame. */
    lk_supp_t *s = supp_from("{\n x\n Memcheck:Leak\n fun:malloc\n obj:/bin/p\n obj:*\n"
                             " obj:*\n fun:*\n}\n");
    struct lk_frame st[2] = {fr("malloc", "/p"), fr(NULL, "/bin/p")};

    cr_assert(lk_supp_match_frames(s, st, 2, MW__LEAK_DEFINITE));
    st[1].module = "/bin/q";
    cr_assert_not(lk_supp_match_frames(s, st, 2, MW__LEAK_DEFINITE));
    lk_supp_free(s);
}

/* ---- the symbol cache ------------------------------------------------------------------------ */
static void cache_put_two(const char *dir, const char *sig)
{
    lk_symcache_t *c = lk_symcache_open(dir, "00ff", sig, 1);
    struct lk_frame f[2];

    cr_assert_not_null(c);
    memset(f, 0, sizeof f);
    f[0].fn = f[0].fn_raw = "inlined";
    f[0].inlined = 1;
    f[0].file = "a.h";
    f[0].line = 7;
    f[1].fn = "ns::outer()";
    f[1].fn_raw = "_ZN2ns5outerEv";
    f[1].file = "a.c";
    f[1].line = 9;
    lk_symcache_put(c, 0x1234, f, 2);
    f[0].fn = f[0].fn_raw = "(below main)";
    f[0].kind = LK_FN_BELOW_MAIN;
    f[0].inlined = 0;
    f[0].file = NULL;
    lk_symcache_put(c, 0x99, f, 1);
    lk_symcache_close(c);
}

static size_t cache_get(const char *dir, const char *sig, uint64_t key, const struct lk_frame **f,
                        lk_symcache_t **cp)
{
    *cp = lk_symcache_open(dir, "00ff", sig, 1);
    cr_assert_not_null(*cp);
    return lk_symcache_get(*cp, key, f);
}

Test(leaks_cache, entries_survive_a_run)
{
    char dir[] = "/tmp/memwalk-cache.XXXXXX";
    const struct lk_frame *f;
    lk_symcache_t *c;

    cr_assert_not_null(mkdtemp(dir));
    cache_put_two(dir, "self");
    cr_assert_eq(cache_get(dir, "self", 0x1234, &f, &c), 2);
    cr_assert_str_eq(f[0].fn, "inlined");
    cr_assert(f[0].inlined);
    cr_assert_str_eq(f[0].file, "a.h");
    cr_assert_eq(f[0].line, 7);
    cr_assert_str_eq(f[1].fn, "ns::outer()");
    cr_assert_str_eq(f[1].fn_raw, "_ZN2ns5outerEv");
    cr_assert_eq(lk_symcache_get(c, 0x99, &f), 1);
    cr_assert_eq(f[0].kind, LK_FN_BELOW_MAIN);
    cr_assert_null(f[0].file);
    cr_assert_eq(lk_symcache_get(c, 0x98, &f), 0);
    lk_symcache_close(c);
    cr_assert_eq(cache_get(dir, "/usr/lib/debug/x.debug 10 1.0", 0x1234, &f, &c), 0,
                 "other debug information: the file does not apply");
    lk_symcache_close(c);
    {
        char path[128];
        snprintf(path, sizeof path, "%s/00ff", dir);
        unlink(path);
        rmdir(dir);
    }
}

Test(leaks_cache, damaged_files_are_ignored)
{
    char dir[] = "/tmp/memwalk-cache.XXXXXX", path[128];
    const struct lk_frame *f;
    lk_symcache_t *c;
    struct stat st;
    off_t at;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/00ff", dir);
    cache_put_two(dir, "self");
    cr_assert_eq(stat(path, &st), 0);
    for (at = 0; at < st.st_size; at += 7) {
        /* Flip one byte anywhere: the checksum refuses the file. */
        int fd = open(path, O_RDWR);
        unsigned char b;
        cr_assert(fd >= 0);
        cr_assert_eq(pread(fd, &b, 1, at), 1);
        b ^= 0x40;
        cr_assert_eq(pwrite(fd, &b, 1, at), 1);
        cr_assert_eq(cache_get(dir, "self", 0x1234, &f, &c), 0, "byte %ld flipped", (long)at);
        lk_symcache_close(c);
        b ^= 0x40;
        cr_assert_eq(pwrite(fd, &b, 1, at), 1);
        close(fd);
    }
    cr_assert_eq(truncate(path, st.st_size / 2), 0);
    cr_assert_eq(cache_get(dir, "self", 0x1234, &f, &c), 0, "a truncated file");
    lk_symcache_close(c);
    cr_assert_eq(truncate(path, 0), 0);
    cr_assert_eq(cache_get(dir, "self", 0x1234, &f, &c), 0, "an empty file");
    lk_symcache_close(c);
    unlink(path);
    rmdir(dir);
}

Test(leaks_cache, two_writers_keep_both_entries)
{
    char dir[] = "/tmp/memwalk-cache.XXXXXX", path[128];
    lk_symcache_t *a, *b, *c;
    const struct lk_frame *f;
    struct lk_frame one;

    cr_assert_not_null(mkdtemp(dir));
    a = lk_symcache_open(dir, "00ff", "none", 0);
    b = lk_symcache_open(dir, "00ff", "none", 0);
    memset(&one, 0, sizeof one);
    one.fn = one.fn_raw = "from_a";
    lk_symcache_put(a, 1, &one, 1);
    one.fn = one.fn_raw = "from_b";
    lk_symcache_put(b, 2, &one, 1);
    lk_symcache_close(a);
    lk_symcache_close(b); /* reads a's file back before replacing it */
    c = lk_symcache_open(dir, "00ff", "none", 0);
    cr_assert_eq(lk_symcache_get(c, 1, &f), 1);
    cr_assert_str_eq(f[0].fn, "from_a");
    cr_assert_eq(lk_symcache_get(c, 2, &f), 1);
    cr_assert_str_eq(f[0].fn, "from_b");
    lk_symcache_close(c);
    snprintf(path, sizeof path, "%s/00ff", dir);
    unlink(path);
    rmdir(dir);
}

Test(leaks_cache, elf_probe_reads_build_id_and_dwarf)
{
    struct lk_elf_info e;

    cr_assert_eq(lk_elf_probe(LK_VICTIM_DEFINITE, &e), 0);
    cr_assert_gt(e.build_id_len, 0);
    cr_assert(e.has_dwarf, "victims are built with -g");
    cr_assert_eq(lk_elf_probe(MW_SRC_DIR "/README.md", &e), -ENOEXEC);
    cr_assert_eq(lk_elf_probe("/nonexistent", &e), -ENOENT);
}

/* A minimal valid stream: one module, one trace, one record. */
static size_t build_stream(unsigned char *buf)
{
    mw__leak_result_t h;
    mw__leak_module_t m;
    mw__leak_lossrec_t r;
    uint32_t depth = 2;
    uint64_t ips[2] = {0x1000, 0x2000};
    size_t n = 0;

    memset(&h, 0, sizeof h);
    h.magic = MW__LEAK_MAGIC;
    h.version = MW__LEAK_VERSION;
    h.pid = 42;
    h.allocs = 3;
    h.nmodules = 1;
    h.ntraces = 1;
    h.nrecords = 1;
    memcpy(buf + n, &h, sizeof h);
    n += sizeof h;
    memset(&m, 0, sizeof m);
    m.lo = 0x1000;
    m.hi = 0x3000;
    m.path_len = 5;
    memcpy(buf + n, &m, sizeof m);
    n += sizeof m;
    memcpy(buf + n, "/prog", 5);
    n += 5;
    memcpy(buf + n, &depth, 4);
    n += 4;
    memcpy(buf + n, ips, sizeof ips);
    n += sizeof ips;
    memset(&r, 0, sizeof r);
    r.kind = MW__LEAK_DEFINITE;
    r.blocks = 2;
    r.bytes = 16;
    memcpy(buf + n, &r, sizeof r);
    n += sizeof r;
    return n;
}

Test(leaks_result, valid_stream_parses)
{
    unsigned char buf[1024];
    size_t n = build_stream(buf);
    struct lk_result r;

    cr_assert_eq(lk_result_parse(buf, n, &r), 0);
    cr_assert_eq(r.h.pid, 42);
    cr_assert_str_eq(r.mods[0].path, "/prog");
    cr_assert_eq(r.trace_depth[0], 2);
    cr_assert_eq(r.trace_ips[0][1], 0x2000);
    cr_assert_eq(r.recs[0].bytes, 16);
    lk_result_free(&r);
}

Test(leaks_result, every_truncation_is_rejected)
{
    unsigned char buf[1024];
    size_t n = build_stream(buf), cut;
    struct lk_result r;

    for (cut = 0; cut < n; cut++)
        cr_assert_eq(lk_result_parse(buf, cut, &r), -EINVAL, "accepted %zu of %zu bytes", cut, n);
}

Test(leaks_result, bad_magic_is_rejected)
{
    unsigned char buf[1024];
    size_t n = build_stream(buf);
    struct lk_result r;

    buf[0] ^= 0xff;
    cr_assert_eq(lk_result_parse(buf, n, &r), -EINVAL);
}

/* Runs memwalk with args; returns its exit status and keeps stderr in err. */
static int memwalk(const char *args, char *err, size_t errlen)
{
    char cmd[1024];
    FILE *p;
    size_t n;
    int st;

    snprintf(cmd, sizeof cmd, "%s %s 2>&1 >/dev/null", MEMWALK, args);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    n = fread(err, 1, errlen - 1, p);
    err[n] = '\0';
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(leaks_cli, no_program_is_bad_usage)
{
    char err[1024];

    cr_assert_eq(memwalk("leaks", err, sizeof err), 2);
    cr_assert(strstr(err, "memwalk: leaks: no program to run"), "%s", err);
}

Test(leaks_cli, unknown_option_is_bad_usage)
{
    char err[1024];

    cr_assert_eq(memwalk("leaks --bogus true", err, sizeof err), 2);
    cr_assert(strstr(err, "--bogus"), "%s", err);
}

Test(leaks_cli, bad_values_are_bad_usage)
{
    char err[1024];

    cr_assert_eq(memwalk("leaks --num-callers=0 true", err, sizeof err), 2);
    cr_assert_eq(memwalk("leaks --num-callers=65 true", err, sizeof err), 2);
    cr_assert_eq(memwalk("leaks --show-leak-kinds=lost true", err, sizeof err), 2);
    cr_assert_eq(memwalk("leaks --errors-for-leak-kinds=x true", err, sizeof err), 2);
    cr_assert_eq(memwalk("leaks --error-exitcode=256 true", err, sizeof err), 2);
    cr_assert_eq(memwalk("leaks --trace-children=maybe true", err, sizeof err), 2);
    cr_assert_eq(memwalk("leaks --leak-check=some true", err, sizeof err), 2);
    cr_assert(strstr(err, "--leak-check"), "%s", err);
}

Test(leaks_cli, bad_suppression_file_is_bad_usage)
{
    char err[1024];

    cr_assert_eq(memwalk("leaks --suppressions=" MW_SRC_DIR "/tests/leaks/fixtures/bad.supp true",
                         err, sizeof err),
                 2);
    cr_assert(strstr(err, "line 4"), "%s", err);
}

Test(leaks_cli, missing_suppression_file_is_access_error)
{
    char err[1024];

    cr_assert_eq(memwalk("leaks --suppressions=/nonexistent.supp true", err, sizeof err), 3);
}

Test(leaks_cli, help_documents_the_options)
{
    char cmd[512], out[8192];
    FILE *p;
    size_t n;

    snprintf(cmd, sizeof cmd, "%s help leaks", MEMWALK);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0);
    cr_assert(strstr(out, "--suppressions=FILE"));
    cr_assert(strstr(out, "--error-exitcode=N"));
    cr_assert(strstr(out, "128+N"));
}

Test(leaks_cli, read_rejects_a_file_that_is_not_a_record)
{
    char err[1024];

    cr_assert_eq(memwalk("leaks --read " MW_SRC_DIR "/README.md", err, sizeof err), 3);
    cr_assert(strstr(err, "not a complete memwalk leak record"), "%s", err);
}

Test(leaks_cli, preload_by_hand_then_read)
{
    char dir[] = "/tmp/memwalk-hand.XXXXXX", cmd[1024], out[8192];
    FILE *p;
    size_t n;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "cd %s && LD_PRELOAD=%s/libmemwalk-leak.so MEMWALK_OUT=%s/r.%%p "
             "%s/tests/leaks/victims/definite_one && %s leaks --read %s/r.* 2>&1; rm -rf %s",
             dir, MW_BUILD_DIR, dir, MW_BUILD_DIR, MEMWALK, dir, dir);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "%s", out);
    cr_assert(strstr(out, "definitely lost: 100 bytes in 1 blocks"), "%s", out);
}

/* Runs a victim under memwalk with the symbol cache in cache_env; returns the report with
 * process ids and addresses blanked out. */
static char *report_with_cache(const char *cache_env, const char *victim)
{
    char cmd[1024], *out = calloc(1, 65536);
    FILE *p;
    size_t n;

    cr_assert_not_null(out);
    snprintf(cmd, sizeof cmd,
             "MEMWALK_SYMBOL_CACHE=%s %s leaks --show-leak-kinds=all %s/tests/leaks/victims/%s "
             "2>&1 >/dev/null | sed -E 's/^==[0-9]+==/==/; s/0x[0-9A-F]+/0x/g'",
             cache_env, MEMWALK, MW_BUILD_DIR, victim);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    n = fread(out, 1, 65535, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

Test(leaks_cli, symbol_cache_gives_the_same_report_cold_warm_and_damaged)
{
    char dir[] = "/tmp/memwalk-symcache.XXXXXX", cmd[256];
    char *off, *cold, *warm, *damaged;

    cr_assert_not_null(mkdtemp(dir));
    off = report_with_cache("off", "entry_points");
    cold = report_with_cache(dir, "entry_points");
    warm = report_with_cache(dir, "entry_points");
    cr_assert(strstr(off, "strdup (strdup.c:") || strstr(off, "strdup (in "), "%s", off);
    cr_assert_str_eq(cold, off);
    cr_assert_str_eq(warm, off);
    /* Every cache file cut in half: ignored, rewritten. */
    snprintf(cmd, sizeof cmd, "for f in %s/*; do truncate -s %%50 \"$f\"; done", dir);
    cr_assert_eq(system(cmd), 0);
    damaged = report_with_cache(dir, "entry_points");
    cr_assert_str_eq(damaged, off);
    snprintf(cmd, sizeof cmd, "ls %s | grep -q . && rm -rf %s", dir, dir);
    cr_assert_eq(system(cmd), 0, "the cache was written");
    free(off);
    free(cold);
    free(warm);
    free(damaged);
}

Test(leaks_cli, without_libdw_frames_are_module_and_offset)
{
    char dir[] = "/tmp/memwalk-nolibdw.XXXXXX", cmd[1024], out[16384];
    FILE *p;
    size_t n;

    /* A libdw.so.1 that cannot be loaded comes first in the search path. */
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "echo broken > %s/libdw.so.1 && LD_LIBRARY_PATH=%s MEMWALK_SYMBOL_CACHE=off %s leaks "
             "%s/tests/leaks/victims/definite_one 2>&1 >/dev/null; echo status=$?; rm -rf %s",
             dir, dir, MEMWALK, MW_BUILD_DIR, dir);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    cr_assert(strstr(out, "definitely lost: 100 bytes in 1 blocks"), "%s", out);
    cr_assert(strstr(out, "??? (") && strstr(out, "/definite_one+0x"), "%s", out);
    cr_assert(strstr(out, "status=0"), "%s", out);
}

Test(leaks_cli, a_suppression_looking_past_main_does_not_change_the_printed_stack)
{
    char dir[] = "/tmp/memwalk-supp-deep.XXXXXX", cmd[1024], out[16384];
    FILE *p;
    size_t n;

    /* "..." then a function no stack has: the matcher walks every frame, below main too. */
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "printf '{\\n x\\n Memcheck:Leak\\n fun:malloc\\n ...\\n fun:never_called\\n}\\n' > "
             "%s/s.supp && %s leaks --suppressions=%s/s.supp %s/tests/leaks/victims/definite_one "
             "2>&1 >/dev/null; rm -rf %s",
             dir, MEMWALK, dir, MW_BUILD_DIR, dir);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    cr_assert(strstr(out, "by 0x") && strstr(out, ": main ("), "%s", out);
    cr_assert_null(strstr(out, "(below main)"), "%s", out);
    cr_assert(strstr(out, "definitely lost: 100 bytes in 1 blocks"), "not suppressed: %s", out);
}

/* Runs a shell command and returns its output (malloc'd). */
static char *shell(const char *cmd)
{
    char *out = calloc(1, 65536);
    FILE *p = popen(cmd, "r");
    size_t n;

    cr_assert(out && p);
    n = fread(out, 1, 65535, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

Test(leaks_cli, command_lines_and_preambles_as_memcheck)
{
    char dir[] = "/tmp/memwalk-preamble.XXXXXX", cmd[2048];
    char *out;

    cr_assert_not_null(mkdtemp(dir));
    /* Every process gets its own file: the root, its forked child (its parent's command), and
     * programs executed (named by the path execve was given). */
    snprintf(cmd, sizeof cmd,
             "cd %s && %s leaks --trace-children=yes --log-file=%s/log.%%p -- "
             "%s/tests/leaks/victims/fork_child 'a b' 'c<d>' >/dev/null 2>&1; "
             "%s leaks --trace-children=yes --log-file=%s/exec.%%p -- sh -c 'exec env true' "
             ">/dev/null 2>&1; "
             "for f in %s/log.* %s/exec.*; do grep -h -e Command: -e 'Parent PID:' $f; done",
             dir, MEMWALK, dir, MW_BUILD_DIR, MEMWALK, dir, dir, dir);
    out = shell(cmd);
    {
        char want[1024];
        const char *first, *second;
        snprintf(want, sizeof want, "Command: %s/tests/leaks/victims/fork_child a\\ b c\\<d\\>",
                 MW_BUILD_DIR);
        first = strstr(out, want);
        cr_assert_not_null(first, "%s", out);
        second = strstr(first + 1, want);
        cr_assert_not_null(second, "the forked child's file repeats the command: %s", out);
    }
    cr_assert(strstr(out, "Parent PID: "), "%s", out);
    cr_assert(strstr(out, "Command: sh -c exec\\ env\\ true"), "%s", out);
    cr_assert(strstr(out, "Command: /usr/bin/env true") || strstr(out, "Command: /bin/env true"),
              "executed programs are named by their path: %s", out);
    cr_assert(strstr(out, "Command: /usr/bin/true") || strstr(out, "Command: /bin/true"), "%s",
              out);
    free(out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
