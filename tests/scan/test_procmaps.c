/* Tests for the allocation-free /proc/PID/maps reader the leak tracer's exit check uses. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/procmaps.h"

static int parse(const char *line, mw__maps_line_t *l)
{
    return mw__maps_parse_line(line, strlen(line), l);
}

Test(scan_procmaps, a_file_mapping_line_parses)
{
    mw__maps_line_t l;

    cr_assert_eq(parse("7f0000001000-7f0000003000 r-xp 00026000 fe:00 332835     "
                       "/usr/lib/x86_64-linux-gnu/libc.so.6",
                       &l),
                 0);
    cr_assert_eq(l.lo, 0x7f0000001000);
    cr_assert_eq(l.hi, 0x7f0000003000);
    cr_assert_str_eq(l.perms, "r-xp");
    cr_assert_eq(l.offset, 0x26000);
    cr_assert_eq(l.inode, 332835);
    cr_assert_eq(l.path_len, strlen("/usr/lib/x86_64-linux-gnu/libc.so.6"));
    cr_assert(strncmp(l.path, "/usr/lib/x86_64-linux-gnu/libc.so.6", l.path_len) == 0);
}

Test(scan_procmaps, anonymous_and_named_lines_parse)
{
    mw__maps_line_t l;

    cr_assert_eq(parse("55d0-55e0 rw-p 00000000 00:00 0 ", &l), 0);
    cr_assert_eq(l.path_len, 0);
    cr_assert_eq(
        parse("7ffd000-7ffe000 rw-p 00000000 00:00 0                          [stack]", &l), 0);
    cr_assert(l.path_len == 7 && strncmp(l.path, "[stack]", 7) == 0);
}

Test(scan_procmaps, malformed_lines_are_refused)
{
    static const char *const bad[] = {"",
                                      "zz-10 rw-p 0 00:00 0",
                                      "10-20",
                                      "10-20 rw",
                                      "20-10 rw-p 0 00:00 0",
                                      "10-20 rw-p 0 0000 0",
                                      "10-20 rw-p 0 00:00 x",
                                      "10 20 rw-p 0 00:00 0",
                                      "123456789abcdef01234-20 rw-p 0 00:00 0"};
    mw__maps_line_t l;
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_neq(parse(bad[i], &l), 0, "accepted: \"%s\"", bad[i]);
}

Test(scan_procmaps, the_reader_returns_every_line_across_buffer_refills)
{
    char path[] = "/tmp/memwalk-procmaps-XXXXXX", buf[8192];
    FILE *f;
    int fd = mkstemp(path), got, n = 0, bad = 0;
    mw__maps_reader_t r;
    mw__maps_line_t l;
    size_t i;

    cr_assert_geq(fd, 0);
    f = fdopen(fd, "w");
    for (i = 0; i < 2000; i++) {
        fprintf(f, "%zx-%zx rw-p 00000000 00:00 0 /some/long/path/%0*zu\n", i * 0x1000,
                i * 0x1000 + 0x1000, (int)(i % 200), i);
        if (i % 500 == 0)
            fprintf(f, "not a line\n");
    }
    fprintf(f, "ffff000-fffff00 r--p 00000000 00:00 0"); /* no newline at the end */
    fclose(f);
    cr_assert_eq(mw__maps_open(&r, path, buf, sizeof buf), 0);
    while ((got = mw__maps_next(&r, &l)) != 0) {
        if (got < 0) {
            bad++;
            continue;
        }
        if (n < 2000)
            cr_assert_eq(l.lo, (uintptr_t)n * 0x1000, "line %d", n);
        n++;
    }
    mw__maps_close(&r);
    unlink(path);
    cr_assert_eq(n, 2001);
    cr_assert_eq(bad, 4);
}

Test(scan_procmaps, reads_this_process)
{
    char buf[8192];
    mw__maps_reader_t r;
    mw__maps_line_t l;
    int got, stack = 0, n = 0;

    cr_assert_eq(mw__maps_open(&r, "/proc/thread-self/maps", buf, sizeof buf), 0);
    while ((got = mw__maps_next(&r, &l)) == 1) {
        n++;
        stack |= l.path_len == 7 && strncmp(l.path, "[stack]", 7) == 0;
    }
    mw__maps_close(&r);
    cr_assert_eq(got, 0);
    cr_assert_gt(n, 5);
    cr_assert(stack);
}

Test(scan_procmaps, small_buffers_and_missing_files_are_errors)
{
    static char buf[8192];
    mw__maps_reader_t r;

    cr_assert_lt(mw__maps_open(&r, "/proc/self/maps", buf, 100), 0);
    cr_assert_lt(mw__maps_open(&r, "/nonexistent/maps", buf, sizeof buf), 0);
}
