/* Tests for `memwalk maps` and `memwalk where`: output shape, pmap agreement, bad input. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "live.h"

static char out[1 << 20];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return run(cmd, out, sizeof(out));
}

static int matches(const char *text, const char *re)
{
    regex_t r;
    int ok;

    cr_assert_eq(regcomp(&r, re, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0, "bad regex %s", re);
    ok = regexec(&r, text, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

#define assert_match(re) cr_assert(matches(out, re), "no line matches /%s/ in:\n%s", re, out)

static void start_target(struct child *c)
{
    char *argv[] = {HELPER("target-nopie"), NULL};

    cr_assert_eq(child_start(c, argv), 0);
}

Test(cli_maps, self_table_has_header_kinds_and_footer)
{
    cr_assert_eq(sh(MEMWALK_BIN " maps 2>&1"), 0);
    assert_match("^Address +Kbytes Mode Kind +Section +Mapping$");
    assert_match("^[0-9a-f]{16} +[0-9]+ r-xp text +\\.text +/.*/memwalk$");
    assert_match("^[0-9a-f]{16} +[0-9]+ rw-p stack +- +\\[stack\\]$");
    assert_match("^total kB +[0-9]+$");
    assert_match("^[0-9]+ regions; text ");
}

Test(cli_maps, other_process_bss_row)
{
    struct child c;

    start_target(&c);
    cr_assert_eq(sh(MEMWALK_BIN " maps %d 2>&1", (int)c.pid), 0);
    assert_match("^[0-9]+: +.*target-nopie$");
    assert_match("^[0-9a-f]{16} +[0-9]+ rw-p (data|bss) +\\.[a-z._+]+ +/.*target-nopie$");
    assert_match("^0000000000400000 ");
    child_stop(&c);
}

/* The page where .data ends and .bss begins: the section column names both, so it agrees with
 * the kind whichever has more bytes. */
Test(cli_maps, page_shared_by_data_and_bss_names_both)
{
    struct child c;

    start_target(&c);
    cr_assert_eq(sh(MEMWALK_BIN " maps %d 2>&1", (int)c.pid), 0);
    assert_match("^[0-9a-f]{16} +[0-9]+ rw-p (data|bss) +\\.[a-z._]+\\+\\.bss +/.*target-nopie$");
    child_stop(&c);
}

/* The RSS total must be the one pmap -x prints for the same (idle) process. */
Test(cli_maps, extended_rss_total_matches_pmap)
{
    struct child c;
    char mine[64] = "", theirs[64] = "";
    char *p;

    if (sh("command -v pmap >/dev/null") != 0)
        cr_skip_test("pmap is missing");
    start_target(&c);
    cr_assert_eq(sh(MEMWALK_BIN " maps -x %d", (int)c.pid), 0);
    assert_match("^Address +Kbytes +RSS +PSS +Dirty +Swap Mode Kind");
    p = strstr(out, "\ntotal kB");
    cr_assert_not_null(p);
    sscanf(p, "\ntotal kB %*s %63s", mine);
    cr_assert_eq(sh("pmap -x %d", (int)c.pid), 0);
    p = strstr(out, "\ntotal kB");
    cr_assert_not_null(p);
    sscanf(p, "\ntotal kB %*s %63s", theirs);
    cr_assert_str_eq(mine, theirs);
    child_stop(&c);
}

/* Reserved address space is its own kind in the table, the footer, JSON and the SVG. */
Test(cli_maps, reserved_space_is_shown_apart)
{
    char *argv[] = {HELPER("target-pie"), "threads", NULL};
    char path[] = "/tmp/mw-svg-XXXXXX";
    struct child c;
    int fd = mkstemp(path);

    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(child_start(&c, argv), 0);
    cr_assert_eq(sh(MEMWALK_BIN " maps -x %d 2>&1", (int)c.pid), 0);
    assert_match("^[0-9a-f]{16} +[0-9]+ +0 +0 +0 +0 ---p reserved +- +\\[anon\\]$");
    assert_match("^[0-9]+ regions;.*, anon [0-9.]+ [KM]iB.*, reserved [0-9.]+ MiB");
    cr_assert_eq(sh(MEMWALK_BIN " maps --json %d 2>&1", (int)c.pid), 0);
    cr_assert_not_null(strstr(out, "\"perms\":\"---p\",\"offset\":0,\"dev\":\"00:00\",\"inode\":0,"
                                   "\"path\":\"\",\"deleted\":false,\"kind\":\"reserved\""),
                       "%s", out);
    cr_assert_eq(sh(MEMWALK_BIN " maps --svg %s %d 2>&1", path, (int)c.pid), 0);
    cr_assert_eq(sh("grep -c 'class=\"legend\">reserved<' %s", path), 0);
    cr_assert_eq(sh("grep -c '\\-\\-\\-p reserved' %s", path), 0);
    child_stop(&c);
    unlink(path);
}

Test(cli_maps, json_is_valid)
{
    if (sh("command -v python3 >/dev/null") != 0)
        cr_skip_test("python3 is missing");
    cr_assert_eq(sh(MEMWALK_BIN
                    " maps -x --json | python3 -c 'import json,sys; d=json.load(sys.stdin);"
                    " r=d[\"regions\"]; print(len(r), r[0][\"kind\"], \"Rss\" in r[0][\"smaps\"])' "
                    "2>&1"),
                 0);
    assert_match("^[0-9]+ [a-z-]+ True$");
}

Test(cli_maps, svg_is_valid_xml)
{
    char path[] = "/tmp/mw-svg-XXXXXX";
    int fd = mkstemp(path);

    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(sh(MEMWALK_BIN " maps --svg %s 2>&1", path), 0);
    cr_assert_str_eq(out, "");
    if (sh("command -v xmllint >/dev/null") == 0)
        cr_assert_eq(sh("xmllint --noout %s 2>&1", path), 0, "%s", out);
    cr_assert_eq(sh("grep -c '<rect' %s", path), 0);
    cr_assert_gt(atoi(out), 10);
    unlink(path);
}

Test(cli_maps, svg_to_unwritable_file_is_status_3)
{
    cr_assert_eq(sh(MEMWALK_BIN " maps --svg /nonexistent/dir/x.svg 2>&1"), 3);
    assert_match("^memwalk: maps: /nonexistent/dir/x.svg: No such file or directory$");
}

Test(cli_maps, not_a_pid_is_usage)
{
    cr_assert_eq(sh(MEMWALK_BIN " maps abc 2>&1"), 2);
    assert_match("^memwalk: maps: abc: not a process id");
}

Test(cli_maps, missing_process_is_status_3)
{
    cr_assert_eq(sh(MEMWALK_BIN " maps 1073741823 2>&1"), 3);
    assert_match("^memwalk: maps: 1073741823: no such process");
}

Test(cli_maps, unknown_option_is_usage)
{
    cr_assert_eq(sh(MEMWALK_BIN " maps --bogus 2>&1"), 2);
    assert_match("^memwalk: maps: --bogus: unknown option");
    cr_assert_eq(sh(MEMWALK_BIN " maps -q 2>&1"), 2);
    assert_match("^memwalk: maps: -q: unknown option");
}

Test(cli_maps, svg_without_file_is_usage)
{
    cr_assert_eq(sh(MEMWALK_BIN " maps --svg 2>&1"), 2);
    assert_match("^memwalk: maps: --svg: option requires an argument$");
}

Test(cli_maps, two_pids_is_usage)
{
    cr_assert_eq(sh(MEMWALK_BIN " maps 1 2 2>&1"), 2);
    assert_match("^memwalk: maps: 2: unexpected argument");
}

Test(cli_maps, other_users_process_is_status_3)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to become another user");
    cr_assert_eq(
        sh("setpriv --reuid=65534 --regid=65534 --clear-groups " MEMWALK_BIN " maps 1 2>&1"), 3);
    assert_match("^memwalk: maps: 1: permission denied");
}

/* memwalk ARGS must fail with exit status 2 and exactly this one line on stderr. */
static void assert_usage_error(const char *args, const char *line)
{
    cr_assert_eq(sh(MEMWALK_BIN " %s 2>&1", args), 2, "%s: %s", args, out);
    cr_assert_str_eq(out, line, "%s", args);
}

/* A negative number is a bad PID or address, not an unknown option. */
Test(cli_maps, negative_pid_is_a_bad_pid)
{
    static const char bad_pid[] = "memwalk: maps: -1: not a process id (a number, or 'self')\n";

    assert_usage_error("maps -1", bad_pid);
    assert_usage_error("maps -x -- -1", bad_pid);
}

Test(cli_where, negative_address_or_pid_is_a_bad_value)
{
    assert_usage_error("where self -5",
                       "memwalk: where: -5: not an address (hex 0x... or decimal)\n");
    assert_usage_error("where self 0x10 -0x20",
                       "memwalk: where: -0x20: not an address (hex 0x... or decimal)\n");
    assert_usage_error("where -5 0x10",
                       "memwalk: where: -5: not a process id (a number, or 'self')\n");
    assert_usage_error("where --json -- self -5",
                       "memwalk: where: -5: not an address (hex 0x... or decimal)\n");
}

Test(cli_maps, empty_svg_file_name_is_usage)
{
    assert_usage_error("maps --svg ''", "memwalk: maps: --svg: empty file name\n");
}

/* --svg FILE and --json together: the picture in FILE, the JSON on standard output. */
Test(cli_maps, svg_file_and_json_together)
{
    char path[] = "/tmp/mw-svg-XXXXXX";
    int fd = mkstemp(path);

    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(sh(MEMWALK_BIN " maps -x --svg %s --json 2>&1", path), 0);
    assert_match("^\\{\"pid\":[0-9]+,\"command\":");
    cr_assert_not_null(strstr(out, "\"smaps\":{"));
    cr_assert_eq(sh("grep -c '</svg>' %s", path), 0);
    cr_assert_str_eq(out, "1\n");
    cr_assert_eq(sh(MEMWALK_BIN " maps --json --svg - 2>&1"), 2);
    assert_match("^memwalk: maps: --svg -: the SVG and --json would share standard output$");
    unlink(path);
}

/* Root refused (here: root of a user namespace of its own, looking at a process outside it)
 * must not be told it is another user's process. */
Test(cli_maps, root_refused_is_not_told_another_user)
{
    struct child c;
    int st;

    if (geteuid() != 0)
        cr_skip_test("needs root");
    if (sh("unshare -U -r true 2>&1") != 0)
        cr_skip_test("no user namespaces here: %s", out);
    start_target(&c);
    st = sh("unshare -U -r " MEMWALK_BIN " maps %d 2>&1", (int)c.pid);
    child_stop(&c);
    if (st == 0)
        cr_skip_test("this kernel lets a user namespace read its parent's processes");
    cr_assert_eq(st, 3, "%s", out);
    assert_match("^memwalk: maps: [0-9]+: permission denied \\(even for root: ");
    cr_assert_null(strstr(out, "another user's"), "%s", out);
}

Test(cli_maps, help_goes_to_stdout)
{
    cr_assert_eq(sh(MEMWALK_BIN " maps --help 2>/dev/null"), 0);
    assert_match("^usage: memwalk maps \\[-x\\] \\[--json\\] \\[--svg FILE\\] \\[PID\\]$");
    cr_assert_eq(sh(MEMWALK_BIN " help where 2>/dev/null"), 0);
    assert_match("^usage: memwalk where \\[--json\\] PID ADDR\\.\\.\\.$");
}

Test(cli_where, kinds_of_a_program_s_variables)
{
    struct child c;

    start_target(&c);
    cr_assert_eq(sh(MEMWALK_BIN " where %d %#lx %#lx %#lx %#lx %#lx 2>&1", (int)c.pid,
                    (unsigned long)field(c.line, "bss"), (unsigned long)field(c.line, "data"),
                    (unsigned long)field(c.line, "text"), (unsigned long)field(c.line, "heap"),
                    (unsigned long)field(c.line, "stack")),
                 0);
    assert_match("^0x[0-9a-f]+ bss 0x[0-9a-f]+-0x[0-9a-f]+ rw-p /.*target-nopie \\.bss$");
    assert_match("^0x[0-9a-f]+ data 0x[0-9a-f]+-0x[0-9a-f]+ rw-p /.*target-nopie \\.data$");
    assert_match("^0x[0-9a-f]+ text 0x[0-9a-f]+-0x[0-9a-f]+ r-xp /.*target-nopie \\.text$");
    assert_match("^0x[0-9a-f]+ heap 0x[0-9a-f]+-0x[0-9a-f]+ rw-p \\[heap\\]$");
    assert_match("^0x[0-9a-f]+ stack 0x[0-9a-f]+-0x[0-9a-f]+ rw-p \\[stack\\]$");
    child_stop(&c);
}

Test(cli_where, decimal_and_hex_agree)
{
    struct child c;
    char hex[512] = "";

    start_target(&c);
    cr_assert_eq(sh(MEMWALK_BIN " where %d %#lx", (int)c.pid, (unsigned long)field(c.line, "bss")),
                 0);
    strncpy(hex, out, sizeof(hex) - 1);
    hex[sizeof(hex) - 1] = 0;
    cr_assert_eq(sh(MEMWALK_BIN " where %d %lu", (int)c.pid, (unsigned long)field(c.line, "bss")),
                 0);
    cr_assert_str_eq(out, hex);
    child_stop(&c);
}

Test(cli_where, one_address_and_many_agree)
{
    struct child c;
    char one[512] = "";

    start_target(&c);
    /* One address takes PROCMAP_QUERY, several read the whole map. */
    cr_assert_eq(sh(MEMWALK_BIN " where %d %#lx", (int)c.pid, (unsigned long)field(c.line, "bss")),
                 0);
    strncpy(one, out, sizeof(one) - 1);
    one[sizeof(one) - 1] = 0;
    cr_assert_eq(sh(MEMWALK_BIN " where %d %#lx %#lx | head -n 1", (int)c.pid,
                    (unsigned long)field(c.line, "bss"), (unsigned long)field(c.line, "bss")),
                 0);
    cr_assert_str_eq(out, one);
    child_stop(&c);
}

Test(cli_where, unmapped_address_is_status_1)
{
    cr_assert_eq(sh(MEMWALK_BIN " where self 0x10 2>&1"), 1);
    cr_assert_str_eq(out, "0x10 unmapped\n");
}

Test(cli_where, mixed_mapped_and_unmapped)
{
    struct child c;

    start_target(&c);
    cr_assert_eq(sh(MEMWALK_BIN " where %d 0x10 %#lx 2>&1", (int)c.pid,
                    (unsigned long)field(c.line, "text")),
                 1);
    assert_match("^0x10 unmapped$");
    assert_match("^0x[0-9a-f]+ text ");
    child_stop(&c);
}

Test(cli_where, json_output)
{
    cr_assert_eq(sh(MEMWALK_BIN " where --json self 0x10 2>&1"), 1);
    assert_match("^\\{\"addr\":\"0x10\",\"kind\":\"unmapped\"\\}$");
}

Test(cli_where, address_over_64_bits_is_usage)
{
    cr_assert_eq(sh(MEMWALK_BIN " where self 0x10000000000000000 2>&1"), 2);
    assert_match("^memwalk: where: 0x10000000000000000: address over 64 bits$");
    cr_assert_eq(sh(MEMWALK_BIN " where self 18446744073709551616 2>&1"), 2);
    assert_match("^memwalk: where: 18446744073709551616: address over 64 bits$");
}

Test(cli_where, non_number_is_usage_and_prints_nothing_else)
{
    cr_assert_eq(sh(MEMWALK_BIN " where self 0x10 zz 2>&1"), 2);
    cr_assert_str_eq(out, "memwalk: where: zz: not an address (hex 0x... or decimal)\n");
}

Test(cli_where, missing_arguments_are_usage)
{
    cr_assert_eq(sh(MEMWALK_BIN " where 2>&1"), 2);
    assert_match("^memwalk: where: missing PID and address");
    cr_assert_eq(sh(MEMWALK_BIN " where self 2>&1"), 2);
    assert_match("^memwalk: where: missing address");
}

Test(cli_where, exited_process_is_status_3)
{
    pid_t pid = fork();

    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    cr_assert_eq(sh(MEMWALK_BIN " where %d 0x1000 2>&1", (int)pid), 3);
    assert_match("^memwalk: where: [0-9]+: no such process");
}

Test(cli_where, bad_pid_is_usage)
{
    cr_assert_eq(sh(MEMWALK_BIN " where -5 0x10 2>&1"), 2);
    cr_assert_eq(sh(MEMWALK_BIN " where 0 0x10 2>&1"), 2);
    assert_match("^memwalk: where: 0: not a process id");
}

Test(cli_maps, kernel_thread_has_no_map)
{
    /* kthreadd is pid 2 in the init namespace; in a container pid 2 may be anything. */
    char comm[64] = "";
    FILE *f = fopen("/proc/2/comm", "r");

    if (!f || !fgets(comm, sizeof(comm), f) || strncmp(comm, "kthreadd", 8) != 0) {
        if (f)
            fclose(f);
        cr_skip_test("no kthreadd at pid 2");
    }
    fclose(f);
    cr_assert_eq(sh(MEMWALK_BIN " maps 2 2>&1"), 3);
    cr_assert_str_eq(out, "memwalk: maps: 2: no memory map (a zombie or a kernel thread)\n");
}

Test(cli_maps, json_without_x_has_no_smaps)
{
    cr_assert_eq(sh(MEMWALK_BIN " maps --json 2>&1"), 0);
    assert_match("^\\{\"start\":\"0x[0-9a-f]+\",\"end\":\"0x[0-9a-f]+\",\"size\":[0-9]+,");
    cr_assert_null(strstr(out, "\"smaps\""));
    cr_assert_not_null(strstr(out, "\"kind\":\"stack\""));
}

/* A mapped file whose name holds a newline and a byte that is not UTF-8: the table and `where`
 * keep one line per region (the kernel's \012), the JSON stays valid (U+FFFD for the byte). */
Test(cli_maps, odd_path_stays_one_line_and_valid_json)
{
    char dir[] = "/tmp/mw-odd-XXXXXX", path[128];

    if (sh("command -v python3 >/dev/null") != 0)
        cr_skip_test("python3 is missing");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a\nb\xe9", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, 4096), 0);
    void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    cr_assert_neq(p, MAP_FAILED);
    close(fd);
    unlink(path);
    rmdir(dir);

    cr_assert_eq(sh(MEMWALK_BIN " maps %d 2>&1", (int)getpid()), 0);
    cr_assert_not_null(strstr(out, "/a\\012b\xe9 (deleted)\n"), "%s", out);
    cr_assert_eq(sh(MEMWALK_BIN " where %d %p 2>&1", (int)getpid(), p), 0);
    cr_assert_not_null(strstr(out, "/a\\012b\xe9 (deleted)\n"), "%s", out);
    cr_assert_eq(sh(MEMWALK_BIN " maps --json %d | python3 -c 'import json,sys; "
                                "[print(json.dumps(r[\"path\"]), r[\"deleted\"]) "
                                "for r in json.load(sys.stdin)[\"regions\"] if \"mw-odd\" in "
                                "r[\"path\"]]' 2>&1",
                    (int)getpid()),
                 0);
    cr_assert_not_null(strstr(out, "/a\\nb\\ufffd\" True\n"), "%s", out);
    munmap(p, 4096);
}
