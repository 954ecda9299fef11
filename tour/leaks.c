/* Tour section "leaks": the seed's leaky Point program under `memwalk leaks`, then the fixed one,
 * and valgrind's verdict on the same programs when valgrind is installed. */
#include "tour/tour.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The numbers of a memcheck-style report. -1: the line was not found. */
struct report {
    long long in_use_bytes, in_use_blocks;
    long long allocs, frees, allocated;
    long long definite_bytes, definite_blocks;
    bool all_freed;
    int status; /* exit status of the checker, -1 when it did not exit */
};

/* Copies s without the thousands separators memcheck prints ("1,040" -> "1040"): commas
 * between two digits only. */
static void strip_commas(const char *s, char *out, size_t len)
{
    size_t n = 0;

    for (const char *p = s; *p && n + 1 < len; p++)
        if (!(*p == ',' && p > s && isdigit((unsigned char)p[-1]) && isdigit((unsigned char)p[1])))
            out[n++] = *p;
    out[n] = '\0';
}

static void parse_line(struct report *r, const char *line)
{
    char buf[512];
    const char *p;

    strip_commas(line, buf, sizeof buf);
    if ((p = strstr(buf, "in use at exit:")))
        sscanf(p, "in use at exit: %lld bytes in %lld blocks", &r->in_use_bytes, &r->in_use_blocks);
    else if ((p = strstr(buf, "total heap usage:")))
        sscanf(p, "total heap usage: %lld allocs, %lld frees, %lld bytes allocated", &r->allocs,
               &r->frees, &r->allocated);
    else if ((p = strstr(buf, "definitely lost:")))
        sscanf(p, "definitely lost: %lld bytes in %lld blocks", &r->definite_bytes,
               &r->definite_blocks);
    else if (strstr(buf, "All heap blocks were freed -- no leaks are possible"))
        r->all_freed = true;
}

/* Runs argv with stdout discarded and stderr captured; prints the captured lines (when show)
 * and parses them. Returns 0, or -errno when the command could not run. */
static int run_checker(struct tour *t, char *const argv[], bool show, struct report *r)
{
    int pipefd[2], status;
    pid_t pid;
    FILE *in;
    char line[1024];

    memset(r, 0, sizeof *r);
    r->in_use_bytes = r->in_use_blocks = r->allocs = r->frees = r->allocated = -1;
    r->definite_bytes = r->definite_blocks = 0; /* memcheck omits the summary when nothing leaked */
    r->status = -1;
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -errno;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        dup2(pipefd[1], STDERR_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);
    in = fdopen(pipefd[0], "r");
    while (in && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        parse_line(r, line);
        int room = tour_width(t) - 2;
        if (show && (int)strlen(line) > room)
            tour_line(t, "  %.*s...", room - 3, line);
        else if (show)
            tour_line(t, "  %s", line);
    }
    if (in)
        fclose(in);
    else
        close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status))
        r->status = WEXITSTATUS(status);
    return r->status == 127 ? -ENOENT : 0;
}

static void report_json(struct tour *t, const char *key, const struct report *r)
{
    mw__json_t *j = tour_json(t);

    mw__json_object(j, key);
    mw__json_int(j, "in_use_bytes", r->in_use_bytes);
    mw__json_int(j, "in_use_blocks", r->in_use_blocks);
    mw__json_int(j, "allocs", r->allocs);
    mw__json_int(j, "frees", r->frees);
    mw__json_int(j, "bytes_allocated", r->allocated);
    mw__json_int(j, "definitely_lost_bytes", r->definite_bytes);
    mw__json_int(j, "definitely_lost_blocks", r->definite_blocks);
    mw__json_bool(j, "all_freed", r->all_freed);
    mw__json_end(j);
}

static bool same_numbers(const struct report *a, const struct report *b)
{
    return a->in_use_bytes == b->in_use_bytes && a->in_use_blocks == b->in_use_blocks &&
           a->allocs == b->allocs && a->frees == b->frees && a->allocated == b->allocated &&
           a->definite_bytes == b->definite_bytes && a->definite_blocks == b->definite_blocks;
}

/* Finds a victim program: next to memwalk in examples/ (the build tree), or installed in
 * ../lib/memwalk/. */
static bool find_victim(struct tour *t, const char *name, char *out, size_t len)
{
    const char *exe = tour_self_exe(t);
    const char *slash = exe ? strrchr(exe, '/') : NULL;
    int dir;

    if (!slash)
        return false;
    dir = (int)(slash - exe);
    snprintf(out, len, "%.*s/examples/%s", dir, exe, name);
    if (access(out, X_OK) == 0)
        return true;
    snprintf(out, len, "%.*s/../lib/memwalk/%s", dir, exe, name);
    return access(out, X_OK) == 0;
}

static bool have_valgrind(void)
{
    return system("command -v valgrind >/dev/null 2>&1") == 0;
}

static int run(struct tour *t)
{
    char leak_prog[PATH_MAX], fixed_prog[PATH_MAX];
    struct report leak, fixed, vg_leak, vg_fixed;
    bool vg;
    int r;

    if (!find_victim(t, "point_leak", leak_prog, sizeof leak_prog) ||
        !find_victim(t, "point_fixed", fixed_prog, sizeof fixed_prog)) {
        tour_skip(t, "the example programs point_leak and point_fixed were not found next to "
                     "memwalk (build them with `make examples`)");
        return 0;
    }
    tour_text(t, "point_leak mallocs two Points, prints their addresses and returns without "
                 "free; point_fixed frees them. Both run unmodified under `memwalk leaks`, which "
                 "preloads its tracer.");

    tour_sub(t, "memwalk leaks -- point_leak");
    {
        char *argv[] = {(char *)tour_self_exe(t), "leaks", "-q", "--", leak_prog, NULL};
        r = run_checker(t, argv, true, &leak);
    }
    if (r < 0 || leak.in_use_bytes < 0) {
        tour_conclude(t, false, "memwalk leaks did not produce a report for point_leak.");
        return -1;
    }
    tour_sub(t, "memwalk leaks -- point_fixed");
    {
        char *argv[] = {(char *)tour_self_exe(t), "leaks", "-q", "--", fixed_prog, NULL};
        r = run_checker(t, argv, true, &fixed);
    }
    if (r < 0 || fixed.in_use_bytes < 0) {
        tour_conclude(t, false, "memwalk leaks did not produce a report for point_fixed.");
        return -1;
    }
    report_json(t, "memwalk_leak", &leak);
    report_json(t, "memwalk_fixed", &fixed);

    vg = have_valgrind();
    mw__json_bool(tour_json(t), "valgrind", vg);
    if (vg) {
        char *a[] = {"valgrind", "--leak-check=full", leak_prog, NULL};
        char *b[] = {"valgrind", "--leak-check=full", fixed_prog, NULL};
        run_checker(t, a, false, &vg_leak);
        run_checker(t, b, false, &vg_fixed);
        report_json(t, "valgrind_leak", &vg_leak);
        report_json(t, "valgrind_fixed", &vg_fixed);
    } else {
        tour_note(t, "valgrind is not installed: no comparison with memcheck's numbers.");
    }
    if (vg) {
        tour_sub(t, "valgrind --leak-check=full on the same programs");
        tour_line(t,
                  "  point_leak:  %lld bytes in %lld blocks definitely lost, %lld allocs, %lld "
                  "frees",
                  vg_leak.definite_bytes, vg_leak.definite_blocks, vg_leak.allocs, vg_leak.frees);
        tour_line(t,
                  "  point_fixed: %lld bytes in use at exit, %lld allocs, %lld frees, %lld "
                  "bytes",
                  vg_fixed.in_use_bytes, vg_fixed.allocs, vg_fixed.frees, vg_fixed.allocated);
    }

    tour_conclude(t, leak.definite_blocks == 2 && leak.definite_bytes == 16,
                  "point_leak lost %lld bytes in %lld blocks: the two 8-byte Points, which no "
                  "pointer reaches once main has returned.",
                  leak.definite_bytes, leak.definite_blocks);
    tour_conclude(t, fixed.in_use_bytes == 0 && fixed.allocs == fixed.frees && fixed.all_freed,
                  "point_fixed: %lld bytes in use at exit, %lld allocs and %lld frees: the two "
                  "Points and one more block of %lld bytes, freed too.",
                  fixed.in_use_bytes, fixed.allocs, fixed.frees, fixed.allocated - 16);
    tour_background(t, "That third block is stdout's buffer, which the first printf allocates and "
                       "the C library releases at exit (__libc_freeres, which memcheck and "
                       "memwalk leaks both call).");
    if (vg)
        tour_conclude(t, same_numbers(&leak, &vg_leak) && same_numbers(&fixed, &vg_fixed),
                      same_numbers(&leak, &vg_leak) && same_numbers(&fixed, &vg_fixed)
                          ? "valgrind reports the same numbers for both programs."
                          : "valgrind's numbers differ from memwalk's for these programs.");
    return 0;
}

const struct tour_section mw_tour_leaks = {"leaks", "Leaks", run};
