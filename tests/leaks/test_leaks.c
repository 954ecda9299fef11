/* Unit tests of `memwalk leaks`' helpers (kinds, number format, suppressions, the result
 * format) and of its command line; fast enough to run with both compilers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/leaks_int.h"

#define MEMWALK MW_BUILD_DIR "/memwalk"

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
