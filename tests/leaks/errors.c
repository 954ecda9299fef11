/* Bad frees and open descriptors (issue 12, points 1 and 2), valgrind as the oracle: each victim
 * runs under memcheck and under `memwalk leaks` with --track-fds=yes, and the reports must say
 * the same from the preamble to HEAP SUMMARY: the errors in order, their kinds, the
 * function:line of the bad call and of the free and alloc stacks (frames in the victim's
 * source), "N bytes inside a block of size M", every open descriptor and what it is; then the
 * same ERROR SUMMARY and exit status. Run once by `make check-leaks-errors` (valgrind is slow). */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"

/* One report line as compared: the ==PID== prefix gone, addresses and ports blanked; a frame
 * is kept as "func (src:line)" when it lies in the victim's source src, else dropped (the
 * tools' own frames and libc's differ). Returns 0 when the line is dropped. */
static int normalize(const char *line, const char *src, char *out, size_t len)
{
    const char *p = line, *at;
    size_t o = 0;

    if (p[0] == '=' && p[1] == '=' && (p = strstr(p + 2, "==")) != NULL)
        p += p[2] == ' ' ? 3 : 2;
    else
        p = line;
    if ((at = strstr(p, "at 0x")) != NULL || (at = strstr(p, "by 0x")) != NULL) {
        char pat[256];
        const char *colon = strstr(at, ": ");
        snprintf(pat, sizeof pat, "(%s:", src);
        if (!colon || !strstr(colon, pat))
            return 0;
        p = colon + 2;
    }
    while (*p && o + 2 < len) {
        if (p[0] == '0' && p[1] == 'x') {
            out[o++] = '0';
            out[o++] = 'x';
            for (p += 2; isxdigit((unsigned char)*p); p++)
                ;
        } else if (strncmp(p, "127.0.0.1:", 10) == 0) {
            o += (size_t)snprintf(out + o, len - o, "127.0.0.1:P");
            for (p += 10; isdigit((unsigned char)*p); p++)
                ;
        } else if (strncmp(p, "Thread ", 7) == 0 && isdigit((unsigned char)p[7])) {
            /* Which of two racing threads comes second is not fixed. */
            o += (size_t)snprintf(out + o, len - o, "Thread T");
            for (p += 7; isdigit((unsigned char)*p); p++)
                ;
        } else {
            out[o++] = *p++;
        }
    }
    out[o < len ? o : len - 1] = '\0';
    return 1;
}

/* The compared part of a report: from after the preamble to HEAP SUMMARY, then the ERROR
 * SUMMARY line; with list (-s), from the first ERROR SUMMARY line to the end. Returns a malloc'd
 * string. */
static char *compared(const char *text, const char *src, int list)
{
    size_t cap = strlen(text) + 64, n = 0;
    char *res = calloc(1, cap), line[2048], norm[2048];
    const char *p = text;
    int in = 0;

    cr_assert_not_null(res);
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        snprintf(line, sizeof line, "%.*s", (int)k, p);
        p += k + (e != NULL);
        if (strstr(line, "HEAP SUMMARY:") && !list)
            in = 0;
        if (list && strstr(line, "ERROR SUMMARY:"))
            in = 1;
        if (list && !in)
            continue;
        if ((in && !strstr(line, "Parent PID:")) || strstr(line, "ERROR SUMMARY:")) {
            char *t = strstr(line, "== Thread ");
            /* Which thread's error comes first is the program's race (two threads freeing the
             * same blocks at once): the line is compared without its number (with the name a
             * thread gave itself). */
            if (t && t[10] >= '0' && t[10] <= '9' && line[strlen(line) - 1] == ':') {
                char rest[256];
                const char *r = t + 10;
                while (*r >= '0' && *r <= '9')
                    r++;
                snprintf(rest, sizeof rest, "%s", r);
                snprintf(t, sizeof line - (size_t)(t - line), "== Thread N%s", rest);
            }
            if (normalize(line, src, norm, sizeof norm) && n + strlen(norm) + 2 < cap)
                n += (size_t)snprintf(res + n, cap - n, "%s\n", norm);
        }
        if (strstr(line, "Command:") && !list)
            in = 1;
    }
    return res;
}

/* Runs the victim under both tools with --track-fds=fds (stderr to the same path, so that the
 * descriptor it is shows the same in both) and compares; valgrind's report must contain want
 * (the test is not empty). */
static void compare_as(const char *victim, const char *src, const char *arg, const char *fds,
                       const char *want, int list)
{
    char track[64];
    char *dir = lk_tmpdir(), err[600], vgkept[600], prog[600];
    char *vgt, *mwt, *vgc, *mwc;
    int sv, sm;

    cr_assert_not_null(dir);
    snprintf(track, sizeof track, "--track-fds=%s", fds);
    snprintf(err, sizeof err, "%s/err", dir);
    snprintf(vgkept, sizeof vgkept, "%s/vg", dir);
    snprintf(prog, sizeof prog, LK_VICTIMS "/%s", victim);
    {
        char *argv[] = {"valgrind",
                        "--leak-check=full",
                        track,
                        "--error-exitcode=9",
                        list ? "-s" : prog,
                        list ? prog : (char *)arg,
                        list ? (char *)arg : NULL,
                        NULL};
        sv = lk_run(argv, LK_STDOUT_NULL, err, 600);
        cr_assert_eq(rename(err, vgkept), 0);
    }
    {
        char *argv[] = {LK_MEMWALK,
                        "leaks",
                        track,
                        "--error-exitcode=9",
                        list ? "-s" : "--",
                        list ? "--" : prog,
                        list ? prog : (char *)arg,
                        list ? (char *)arg : NULL,
                        NULL};
        sm = lk_run(argv, LK_STDOUT_NULL, err, 120);
    }
    cr_assert_neq(sv, -1, "%s: valgrind did not finish", victim);
    cr_assert_neq(sm, -1, "%s: memwalk leaks did not finish", victim);
    cr_expect(WIFEXITED(sm) && WIFEXITED(sv) && WEXITSTATUS(sm) == WEXITSTATUS(sv),
              "%s: exit status %#x, valgrind %#x", victim, sm, sv);
    vgt = lk_slurp(vgkept);
    mwt = lk_slurp(err);
    cr_assert(vgt && mwt);
    vgc = compared(vgt, src, list);
    mwc = compared(mwt, src, list);
    cr_expect(strstr(vgc, want), "%s: no \"%s\" in valgrind's report:\n%s", victim, want, vgt);
    cr_expect_str_eq(mwc, vgc, "%s: memwalk says\n%s\nvalgrind says\n%s\n(memwalk's report:\n%s)",
                     victim, mwc, vgc, mwt);
    free(vgc);
    free(mwc);
    free(vgt);
    free(mwt);
    lk_cleanup(dir);
}

static void compare(const char *victim, const char *src, const char *arg, const char *fds,
                    const char *want)
{
    compare_as(victim, src, arg, fds, want, 0);
}

/* Double free, inside a live block, stack, global, never allocated, inside a freed block,
 * realloc of a freed block, an aligned block twice, and three errors merged in one context. */
Test(leaks_errors, every_bad_free_of_c, .timeout = 900)
{
    compare("badfree_kinds", "badfree_kinds.c", NULL, "yes",
            "ERROR SUMMARY: 11 errors from 9 contexts");
}

/* The same with freed blocks held back from reuse, as memcheck holds them. */
Test(leaks_errors, every_bad_free_of_c_with_freelist_hold, .timeout = 900)
{
    setenv("MEMWALK_FREELIST_HOLD", "yes", 1);
    compare("badfree_kinds", "badfree_kinds.c", NULL, "yes",
            "ERROR SUMMARY: 11 errors from 9 contexts");
}

/* The same after many blocks freed as soon as made, the batches of frees at their smallest. */
Test(leaks_errors, every_bad_free_of_c_in_small_batches, .timeout = 900)
{
    compare("badfree_kinds", "badfree_kinds.c", "warm", "yes",
            "ERROR SUMMARY: 11 errors from 9 contexts");
}

/* The four mismatches of malloc/new/new[] with free/delete/delete[], and deletes twice. */
Test(leaks_errors, mismatched_and_repeated_deletes, .timeout = 900)
{
    compare("badfree_cpp", "badfree_cpp.cc", NULL, "yes",
            "ERROR SUMMARY: 6 errors from 6 contexts");
}

/* Two threads freeing the same blocks at once: 200 errors from 1 context, as memcheck counts. */
Test(leaks_errors, threads_double_freeing_at_once, .timeout = 900)
{
    compare("badfree_threads", "badfree_threads.c", NULL, "yes",
            "ERROR SUMMARY: 200 errors from 1 contexts");
}

/* A thread that named itself: memcheck heads its error "Thread 2 worker:", the main thread's
 * next one "Thread 1:". */
Test(leaks_errors, a_named_threads_error_carries_its_name, .timeout = 900)
{
    compare("badfree_named", "badfree_named.c", NULL, "yes",
            "ERROR SUMMARY: 2 errors from 2 contexts");
}

/* -s: every error context listed again after ERROR SUMMARY, the fewest errors first and, of
 * equal counts, the one found last first (memcheck's order), with its count. */
Test(leaks_errors, the_error_list_of_minus_s, .timeout = 900)
{
    compare_as("badfree_kinds", "badfree_kinds.c", NULL, "no", "3 errors in context 9 of 9:", 1);
    compare_as("badfree_named", "badfree_named.c", NULL, "no", "1 errors in context 2 of 2:", 1);
}

/* The end of a report from LEAK SUMMARY on, the process ids and addresses blanked ("==" and
 * "--" lines kept apart). */
static char *tail_of(const char *text)
{
    const char *p = strstr(text, "LEAK SUMMARY:");
    size_t cap = strlen(text) + 1, n = 0;
    char *res = calloc(1, cap);

    cr_assert_not_null(res);
    while (p && p > text && p[-1] != '\n')
        p--;
    for (; p && *p && n + 1 < cap; p++) {
        if ((p[0] == '=' || p[0] == '-') && p[1] == p[0] && (p == text || p[-1] == '\n')) {
            char c = p[0];
            for (p += 2; *p >= '0' && *p <= '9'; p++)
                ;
            n += (size_t)snprintf(res + n, cap - n, "%c%cP", c, c);
        }
        if (p[0] == '0' && p[1] == 'x') {
            n += (size_t)snprintf(res + n, cap - n, "0x");
            for (p += 2; isxdigit((unsigned char)*p); p++)
                ;
        }
        res[n++] = *p;
    }
    return res;
}

/* The loss records of a report (from HEAP SUMMARY to LEAK SUMMARY), normalized as above. */
static char *records_of(const char *text, const char *src)
{
    const char *p = strstr(text, "HEAP SUMMARY:"), *end = strstr(text, "LEAK SUMMARY:");
    size_t cap = strlen(text) + 1, n = 0;
    char *res = calloc(1, cap), line[2048], norm[2048];

    cr_assert_not_null(res);
    while (p && end && p < end) {
        const char *e = strchr(p, '\n');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        snprintf(line, sizeof line, "%.*s", (int)k, p);
        p += k + (e != NULL);
        if (normalize(line, src, norm, sizeof norm))
            n += (size_t)snprintf(res + n, cap - n, "%s\n", norm);
    }
    return res;
}

/* Runs valgrind with va and memwalk with ma (stderr to files of a new directory, removed
 * after); *vgt and *mwt get the two reports, to be freed. */
static void both_reports(char **va, char **ma, char **vgt, char **mwt)
{
    char *dir = lk_tmpdir(), vg[600], mw[600];

    cr_assert_not_null(dir);
    snprintf(vg, sizeof vg, "%s/vg", dir);
    snprintf(mw, sizeof mw, "%s/mw", dir);
    cr_assert_neq(lk_run(va, LK_STDOUT_NULL, vg, 600), -1);
    cr_assert_neq(lk_run(ma, LK_STDOUT_NULL, mw, 120), -1);
    *vgt = lk_slurp(vg);
    *mwt = lk_slurp(mw);
    lk_cleanup(dir);
    cr_assert(*vgt && *mwt);
}

/* The parts compared (memwalk's, valgrind's) are equal; frees them and the two reports. */
static void expect_same(char *mwc, char *vgc, char *vgt, char *mwt)
{
    cr_expect_str_eq(mwc, vgc, "memwalk says\n%s\nvalgrind says\n%s", mwc, vgc);
    free(vgc);
    free(mwc);
    free(vgt);
    free(mwt);
}

/* After an error of another thread, the leak check's records are headed "Thread 1:" (they are
 * the main thread's), and the other thread's error carries the name it took. */
Test(leaks_errors, records_after_another_threads_error_are_thread_1s, .timeout = 900)
{
    char *vgt, *mwt, *vgc, *mwc;
    char *va[] = {"valgrind", "--leak-check=full", LK_VICTIMS "/badfree_idle", NULL};
    char *ma[] = {LK_MEMWALK, "leaks", "--", LK_VICTIMS "/badfree_idle", NULL};

    both_reports(va, ma, &vgt, &mwt);
    cr_expect(strstr(vgt, "Thread 2 idler:") && strstr(mwt, "Thread 2 idler:"),
              "valgrind says\n%s\nmemwalk says\n%s", vgt, mwt);
    vgc = records_of(vgt, "badfree_idle.c");
    mwc = records_of(mwt, "badfree_idle.c");
    cr_expect(strstr(vgc, "Thread T:"), "valgrind says\n%s", vgt);
    expect_same(mwc, vgc, vgt, mwt);
}

/* -s with suppressions: memcheck's used_suppression lines, each with its count, file:line and
 * what it hid, the one that matched last first. */
Test(leaks_errors, used_suppressions_under_minus_s, .timeout = 900)
{
    char *vgt, *mwt, *vgc, *mwc;
    char supp[] = "--suppressions=" MW_SRC_DIR "/tests/leaks/fixtures/definite_many.supp";
    char *va[] = {"valgrind", "--leak-check=full", "-s", supp, LK_VICTIMS "/definite_many", NULL};
    char *ma[] = {LK_MEMWALK, "leaks", "-s", supp, "--", LK_VICTIMS "/definite_many", NULL};

    both_reports(va, ma, &vgt, &mwt);
    vgc = tail_of(vgt);
    mwc = tail_of(mwt);
    cr_expect(strstr(vgc, "used_suppression:      1 the-loop"), "valgrind says\n%s", vgt);
    expect_same(mwc, vgc, vgt, mwt);
}

/* Files, sockets, pipes, copies, eventfd, memfd: every descriptor open at exit, none of the
 * tracer's own. */
Test(leaks_errors, every_kind_of_open_descriptor, .timeout = 900)
{
    char *dir = lk_tmpdir();

    cr_assert_not_null(dir);
    compare("fds_kinds", "fds_kinds.c", dir, "yes", "Open AF_INET socket");
    lk_cleanup(dir);
}

/* --track-fds=all lists the standard three too; the tracer's descriptor is never listed even
 * though the program's own are numbered as natively. */
Test(leaks_errors, track_fds_all_lists_the_standard_three, .timeout = 900)
{
    char *dir = lk_tmpdir();

    cr_assert_not_null(dir);
    compare("fds_kinds", "fds_kinds.c", dir, "all", "Open file descriptor 0: /dev/null");
    lk_cleanup(dir);
}

/* --json carries the errors: the count and one object per context, each with its kind. */
Test(leaks_errors, json_carries_the_error_contexts, .timeout = 900)
{
    char *dir = lk_tmpdir(), opt[640], path[600], *text, *p;
    char *argv[] = {LK_MEMWALK, "leaks", "-q", opt, "--", LK_VICTIMS "/badfree_kinds", NULL};
    int invalid = 0;

    cr_assert_not_null(dir);
    snprintf(path, sizeof path, "%s/report.json", dir);
    snprintf(opt, sizeof opt, "--json=%s", path);
    cr_assert_eq(lk_run(argv, LK_STDOUT_NULL, NULL, 120), 0);
    text = lk_slurp(path);
    cr_assert_not_null(text);
    cr_expect(strstr(text, "\"errors\":11,"), "no 11 errors in:\n%s", text);
    cr_assert(strstr(text, "\"error_contexts\""), "no error_contexts in:\n%s", text);
    for (p = text; (p = strstr(p, "\"kind\":\"invalid_free\"")) != NULL; p++)
        invalid++;
    cr_expect_eq(invalid, 9, "%d invalid_free contexts, 9 expected:\n%s", invalid, text);
    free(text);
    lk_cleanup(dir);
}
