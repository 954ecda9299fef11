/* Runs each example program of examples/ and checks its output with regular expressions: the
 * numbers change from run to run, the shape and the facts do not. */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../support/run.h"

#define EXAMPLE(name) MW_BUILD_DIR "/examples/" name

#define ADDR "0x[0-9a-f]+ [0-9]+"

/* Counts the lines of text matching the extended regular expression re. */
static int count_matches(const char *text, const char *re)
{
    regex_t rx;
    int n = 0;
    char *copy = strdup(text), *save = NULL;

    cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0, "bad regex %s", re);
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        n += regexec(&rx, line, 0, NULL, 0) == 0;
    regfree(&rx);
    free(copy);
    return n;
}

#define expect(text, re, count)                                                               \
    cr_expect_eq(count_matches(text, re), count, "expected %d line(s) matching /%s/ in:\n%s", \
                 count, re, text)

Test(examples, addresses_shows_six_stack_locals_and_their_distances)
{
    int st;
    char *out = run(EXAMPLE("addresses"), &st);
    cr_assert_eq(st, 0);
    expect(out, "^[abcxyz]: " ADDR " stack \\[stack\\]$", 6);
    expect(out, "^&[bcyz] - &[abxy]: 0x[0-9a-f]+ - 0x[0-9a-f]+ = -?[0-9]+ bytes$", 6);
    free(out);
}

Test(examples, blocks_counts_the_reused_slots)
{
    int st;
    char *out = run(EXAMPLE("blocks"), &st);
    cr_assert_eq(st, 0);
    expect(out, "^[abcxyz]: " ADDR " stack \\[stack\\]$", 6);
    expect(out, "^slots reused by the second block: [0-3] of 3$", 1);
    free(out);
}

Test(examples, frames_callee_is_below_caller)
{
    int st;
    char *out = run(EXAMPLE("frames"), &st);
    cr_assert_eq(st, 0);
    expect(out, "^[ab]: " ADDR " stack \\[stack\\]$", 2);
    expect(out, "^b is [0-9]+ bytes below a$", 1);
    free(out);
}

Test(examples, where_do_they_live_names_each_kind)
{
    int st;
    char *out = run(EXAMPLE("where_do_they_live"), &st);
    cr_assert_eq(st, 0);
    expect(out, "^initialised_global: " ADDR " data \\.data /", 1);
    expect(out, "^zero_global: " ADDR " bss \\.bss", 1);
    expect(out, "^greeting: " ADDR " rodata \\.rodata /", 1);
    expect(out, "^main: " ADDR " text \\.text /", 1);
    expect(out, "^local_(outer|inner): " ADDR " stack \\[stack\\]$", 2);
    expect(out, "^small malloc\\(32\\): " ADDR " heap \\[heap\\]$", 1);
    expect(out, "^large malloc\\(16 MiB\\): " ADDR " anon \\[anon\\]$", 1);
    expect(out, "^thread_local_var: " ADDR " thread-stack", 1);
    free(out);
}

Test(examples, auto_free_releases_in_reverse_order)
{
    int st;
    char *out = run(EXAMPLE("auto_free"), &st);
    cr_assert_eq(st, 0);
    expect(out, "^p[12]: 0x[0-9a-f]+ \\{x: 1, y: (1|32)\\}$", 2);
    /* p2 is released before p1: the two point_free lines in that order. */
    const char *p2 = strstr(out, "point_free: p2"), *p1 = strstr(out, "point_free: p1");
    cr_assert(p1 && p2 && p2 < p1, "expected point_free p2 then p1 in:\n%s", out);
    free(out);
}

Test(examples, stack_vs_heap_reports_three_runs_and_the_faults_of_no_free)
{
    int st;
    char *out = run(EXAMPLE("stack_vs_heap") " --quick --baseline on_stack", &st);
    cr_assert_eq(st, 0);
    expect(out, "^local: " ADDR " stack \\[stack\\]$", 1);
    expect(out, "^heap array: " ADDR " (heap \\[heap\\]|anon \\[anon\\])$", 1);
    expect(out, "^on_stack +[0-9]+ .* 1\\.00x$", 1);
    expect(out, "^on_heap +[0-9]+ ", 1);
    /* 1,000 fresh 40 KB blocks a sample: thousands of page faults, on any kernel. */
    expect(out, "^on_heap_no_free +1000 .* [0-9]{4,}\\.[0-9] +[0-9.]+x$", 1);
    free(out);
}

Test(examples, gc_points_finalizes_each_point_once)
{
    int st;
    char *out = run(EXAMPLE("gc_points"), &st);
    cr_assert_eq(st, 0);
    /* Three dropped points finalized by the first collection, p1 by the second: four lines,
     * one per point, none twice. */
    expect(out, "^  del \\{x: 1, y: 1\\}: collected, nobody called free$", 1);
    expect(out, "^  del \\{x: [123], y: [123]0\\}: collected, nobody called free$", 3);
    expect(out, "^p1 is still \\{x: 1, y: 1\\}$", 1);
    expect(out, "^4 points collected, 4 finalizers run, [0-9]+ collections$", 1);
    free(out);
}

Test(examples, point_leak_and_point_fixed_print_two_points)
{
    int st;
    char *out = run(EXAMPLE("point_leak"), &st);
    cr_assert_eq(st, 0);
    expect(out, "^P[12]:\t0x[0-9a-f]+\t[0-9]+$", 2);
    free(out);
    out = run(EXAMPLE("point_fixed"), &st);
    cr_assert_eq(st, 0);
    expect(out, "^P[12]:\t0x[0-9a-f]+\t[0-9]+$", 2);
    free(out);
}
