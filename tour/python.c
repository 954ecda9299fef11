/* Tour section "python": a live CPython process is asked for the id() of a few objects, and
 * `memwalk where` says which region of that process holds each one. */
#include "tour/tour.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"

/* Prints what it measured, one "key values..." line each, then "end", then waits for stdin to
 * close (so that `memwalk where` can look at it). The second of each pair of objects is a fresh
 * object equal to the first, made at run time, to show caching. */
static const char script[] =
    "import os, sys\n"
    "def vmstk():\n"
    "    for l in open('/proc/self/status'):\n"
    "        if l.startswith('VmStk:'): return int(l.split()[1])\n"
    "    return -1\n"
    "small = 1\n"
    "big = 10**20\n"
    "text = 'memwalk'\n"
    "items = [small, big, text]\n"
    "print('pid', os.getpid())\n"
    "print('version', sys.version.split()[0])\n"
    "print('ids', id(small), id(int('1')), id(big), id(int(str(10**20))), id(text), id(None),\n"
    "      id(items))\n"
    "def cached(i): return int(str(i)) is int(str(i))\n"
    "lo = hi = 0\n"
    "while hi < 100000 and cached(hi + 1): hi += 1\n"
    "while lo > -100000 and cached(lo - 1): lo -= 1\n"
    "print('cache', lo, hi if cached(0) else -1)\n"
    "def frames(n, out):\n"
    "    out.append(id(sys._getframe()))\n"
    "    if n: frames(n - 1, out)\n"
    "    return out\n"
    "print('frames', *frames(3, []))\n"
    "def depth(n):\n"
    "    try: return depth(n + 1)\n"
    "    except RecursionError: return n\n"
    "before = vmstk()\n"
    "reached = depth(1)\n"
    "print('recursion', sys.getrecursionlimit(), reached, before, vmstk())\n"
    "calls = 0\n"
    "def tail(n):\n"
    "    global calls\n"
    "    calls += 1\n"
    "    if n == 0: return 0\n"
    "    return tail(n - 1)\n"
    "try: tail(10 * sys.getrecursionlimit()); failed = 0\n"
    "except RecursionError: failed = 1\n"
    "print('tail', 10 * sys.getrecursionlimit(), failed, calls)\n"
    "print('end', flush=True)\n"
    "sys.stdin.read()\n";

enum { SMALL, SMALL_AGAIN, BIG, BIG_AGAIN, TEXT, NONE, LIST, FRAME0, NOBJ = FRAME0 + 4 };
static const char *const labels[NOBJ] = {"1",
                                         "int('1')",
                                         "10**20",
                                         "int(str(10**20))",
                                         "'memwalk'",
                                         "None",
                                         "[1, 10**20, 'memwalk']",
                                         "frame, depth 0",
                                         "frame, depth 1",
                                         "frame, depth 2",
                                         "frame, depth 3"};

/* What the script printed. */
struct measured {
    int pid;
    char version[32];
    unsigned long long ids[NOBJ];
    long cache_lo, cache_hi;
    long limit, reached, stk_before, stk_after;
    long tail_asked, tail_failed, tail_calls;
};

struct python {
    pid_t child;
    int to_child, from_child;
};

static int spawn(struct python *py)
{
    int in[2], out[2];

    if (pipe2(in, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(out, O_CLOEXEC) < 0) {
        close(in[0]);
        close(in[1]);
        return -errno;
    }
    py->child = fork();
    if (py->child < 0) {
        int e = errno;
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        return -e;
    }
    if (py->child == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        execlp("python3", "python3", "-S", "-c", script, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    py->to_child = in[1];
    py->from_child = out[0];
    return 0;
}

static void finish(struct python *py)
{
    int status;

    close(py->to_child); /* EOF on its stdin: the script returns */
    close(py->from_child);
    for (int i = 0; i < 50; i++) {
        if (waitpid(py->child, &status, WNOHANG) != 0)
            return;
        usleep(10000);
    }
    kill(py->child, SIGKILL);
    waitpid(py->child, &status, 0);
}

/* Reads from fd until a line "end" arrives, within timeout_ms. Returns 0, or -1. */
static int read_report(int fd, char *buf, size_t len, int timeout_ms)
{
    size_t n = 0;

    buf[0] = '\0';
    while (n + 1 < len) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t r;
        if (poll(&p, 1, timeout_ms) <= 0)
            return -1;
        r = read(fd, buf + n, len - n - 1);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        if (strstr(buf, "\nend\n"))
            return 0;
    }
    return -1;
}

/* Splits the script's report into m; 0 when every line was there. */
static int parse_report(char *buf, struct measured *m)
{
    int seen = 0;
    char *save = NULL;

    memset(m, 0, sizeof *m);
    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        unsigned long long *id = m->ids;
        if (sscanf(l, "pid %d", &m->pid) == 1)
            seen |= 1;
        else if (sscanf(l, "version %31s", m->version) == 1)
            seen |= 2;
        else if (sscanf(l, "ids %llu %llu %llu %llu %llu %llu %llu", &id[0], &id[1], &id[2], &id[3],
                        &id[4], &id[5], &id[6]) == 7)
            seen |= 4;
        else if (sscanf(l, "cache %ld %ld", &m->cache_lo, &m->cache_hi) == 2)
            seen |= 8;
        else if (sscanf(l, "frames %llu %llu %llu %llu", &id[FRAME0], &id[FRAME0 + 1],
                        &id[FRAME0 + 2], &id[FRAME0 + 3]) == 4)
            seen |= 16;
        else if (sscanf(l, "recursion %ld %ld %ld %ld", &m->limit, &m->reached, &m->stk_before,
                        &m->stk_after) == 4)
            seen |= 32;
        else if (sscanf(l, "tail %ld %ld %ld", &m->tail_asked, &m->tail_failed, &m->tail_calls) ==
                 3)
            seen |= 64;
    }
    return seen == 127 ? 0 : -1;
}

struct where_line {
    char kind[32];
    char path[256];
    char section[64];
    unsigned long long start, end; /* the region */
};

/* Runs `memwalk where PID ADDR...` and splits each output line. */
static int run_where(struct tour *t, pid_t pid, const unsigned long long *ids, struct where_line *w)
{
    char cmd[2048];
    int n, i;
    FILE *p;
    char line[1024];

    n = snprintf(cmd, sizeof cmd, "'%s' where %d", tour_self_exe(t), (int)pid);
    for (i = 0; i < NOBJ; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " 0x%llx", ids[i]);
    p = popen(cmd, "r");
    if (!p)
        return -errno;
    for (i = 0; i < NOBJ && fgets(line, sizeof line, p); i++) {
        char addr[32], range[64], perms[8];
        int f;
        line[strcspn(line, "\n")] = '\0';
        memset(&w[i], 0, sizeof w[i]);
        f = sscanf(line, "%31s %31s %63s %7s %255s %63s", addr, w[i].kind, range, perms, w[i].path,
                   w[i].section);
        if (f < 2)
            snprintf(w[i].kind, sizeof w[i].kind, "?");
        if (f >= 3)
            sscanf(range, "%llx-%llx", &w[i].start, &w[i].end);
        if (i == FRAME0)
            tour_line(t, "  sys._getframe() in frames(3) -> frames(2) -> frames(1) -> frames(0):");
        /* The where line, with its region range dropped and the path cut to its last
         * component, to fit the tour's width. */
        const char *base = strrchr(w[i].path, '/');
        tour_line(t, "  %-22s %-15s %-6s %-11s %.20s", labels[i], addr, w[i].kind,
                  w[i].section[0] ? w[i].section : "-", base ? base + 1 : w[i].path);
    }
    pclose(p);
    return i == NOBJ ? 0 : -EIO;
}

static bool in_python_image(const struct where_line *w)
{
    return strstr(w->path, "python") != NULL;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* The C recursion depth of section 3, measured now if that section did not run. */
static bool c_depth(struct tour *t)
{
    return tour_shared(t)->have_c_depth || tour_depth_measure(t) == 0;
}

static void objects(struct tour *t, const struct measured *m, const struct where_line *w)
{
    const unsigned long long *ids = m->ids;
    char size[32];

    if (ids[SMALL] == ids[SMALL_AGAIN] && ids[BIG] != ids[BIG_AGAIN])
        tour_conclude(t, true,
                      "1 and int('1') are one object, 10**20 and an equal int built at run time "
                      "are two. Which ints are shared, measured: int(str(i)) is int(str(i)) for "
                      "every i from %ld to %ld, and for neither %ld nor %ld: that is the range of "
                      "small ints made once.",
                      m->cache_lo, m->cache_hi, m->cache_lo - 1, m->cache_hi + 1);
    else
        tour_conclude(t, false,
                      "Caching differs from CPython's usual: 1 %s int('1'), 10**20 %s "
                      "its run-time twin (shared range measured: %ld..%ld).",
                      ids[SMALL] == ids[SMALL_AGAIN] ? "is" : "is not",
                      ids[BIG] == ids[BIG_AGAIN] ? "is" : "is not", m->cache_lo, m->cache_hi);
    if ((strcmp(w[SMALL].kind, "data") == 0 || strcmp(w[SMALL].kind, "bss") == 0) &&
        in_python_image(&w[SMALL]))
        tour_conclude(t, true,
                      "The small int 1 is not on the heap, nor on the stack: it sits in %s's %s "
                      "(%s), a static object compiled into the interpreter.",
                      base_name(w[SMALL].path), w[SMALL].kind,
                      w[SMALL].section[0] ? w[SMALL].section : "no section");
    else
        tour_conclude(t, false, "The small int 1 was found in %s memory (%s).", w[SMALL].kind,
                      w[SMALL].path[0] ? w[SMALL].path : "anonymous");
    tour_background(t, "Older CPython versions built the small ints with malloc at start-up, so "
                       "they lived on the heap.");
    if (strcmp(w[BIG].kind, "anon") == 0)
        tour_conclude(t, true,
                      "10**20 is an ordinary object: it lives in an anonymous mapping (%s here), "
                      "not the [heap] that brk grows.",
                      mw__format_bytes(w[BIG].end - w[BIG].start, size, sizeof size));
    else if (strcmp(w[BIG].kind, "heap") == 0)
        tour_conclude(t, true, "10**20 is an ordinary object and lives in the malloc [heap].");
    else
        tour_conclude(t, false, "10**20 was found in %s memory.", w[BIG].kind);
    tour_background(t, "CPython's small-object allocator, pymalloc, takes arenas of 1 MiB "
                       "(256 KiB in older versions) from mmap and carves objects of up to 512 "
                       "bytes out of them.");
    if (strcmp(w[NONE].kind, "data") == 0 || strcmp(w[NONE].kind, "bss") == 0)
        tour_conclude(t, true, "None is static too (%s): one object for the whole process.",
                      w[NONE].kind);
    else
        tour_conclude(t, false, "None was found in %s memory.", w[NONE].kind);
}

static void frames(struct tour *t, const struct measured *m, const struct where_line *w)
{
    const unsigned long long *f = &m->ids[FRAME0];
    int down = 0, up = 0;

    for (int i = 1; i < 4; i++) {
        down += f[i] < f[i - 1];
        up += f[i] > f[i - 1];
    }
    bool on_stack = false;
    for (int i = 0; i < 4; i++)
        on_stack |= strcmp(w[FRAME0 + i].kind, "stack") == 0;
    mw__json_bool(tour_json(t), "frames_on_stack", on_stack);
    mw__json_int(tour_json(t), "frames_descending", down);
    tour_conclude(t, !on_stack,
                  "Python's frame objects live in %s memory, %s: each deeper call's frame is %s "
                  "its caller's%s. The C stack of section 2 grows down, one frame below the "
                  "other; Python's frames are objects the interpreter allocates.",
                  w[FRAME0].kind, on_stack ? "on the stack" : "not on the C stack",
                  down == 3 ? "below"
                  : up == 3 ? "above"
                            : "not always on one side of",
                  down == 3 || up == 3 ? "" : " (no single direction)");
}

static void recursion(struct tour *t, const struct measured *m)
{
    mw__json_t *json = tour_json(t);
    const struct tour_shared *sh = tour_shared(t);
    long grown = m->stk_after - m->stk_before;

    mw__json_int(json, "recursion_limit", m->limit);
    mw__json_int(json, "python_depth", m->reached);
    mw__json_int(json, "c_stack_growth_kib", grown);
    tour_line(t, "  Python recursion limit   %ld (sys.getrecursionlimit())", m->limit);
    tour_line(t, "  Python depth reached     %ld calls, then RecursionError", m->reached);
    tour_line(t, "  its C stack grew by      %ld KiB (VmStk before and after)", grown);
    if (c_depth(t)) {
        mw__json_uint(json, "c_depth", sh->c_depth);
        tour_line(t, "  C depth (section 3)      %llu calls of %.0f bytes",
                  (unsigned long long)sh->c_depth, sh->c_frame_bytes);
        tour_conclude(t, (uint64_t)m->reached < sh->c_depth && m->reached <= m->limit,
                      "Python stopped at %ld nested calls, C went %llu deep: Python's limit is "
                      "a count (%ld) it checks itself, not the size of the stack. Those %ld "
                      "calls grew the interpreter's C stack by %ld KiB%s.",
                      m->reached, (unsigned long long)sh->c_depth, m->limit, m->reached, grown,
                      grown <= 8 ? ": its Python-to-Python calls do not nest C frames"
                                 : ", so each Python call also took C stack");
    }
    mw__json_int(json, "tail_calls_before_error", m->tail_calls);
    mw__json_bool(json, "tail_call_failed", m->tail_failed != 0);
    tour_conclude(t, m->tail_failed != 0,
                  m->tail_failed ? "A function whose recursive call is in tail position, asked "
                                   "for %ld levels, raised RecursionError after %ld calls: Python "
                                   "does not eliminate tail calls, every call keeps its frame "
                                   "(section 2's C compiler turned one into a jump)."
                                 : "A tail-recursive function went %ld levels deep without "
                                   "RecursionError (%ld calls): this Python eliminated the tail "
                                   "call.",
                  m->tail_asked, m->tail_calls);
}

static int run(struct tour *t)
{
    mw__json_t *json = tour_json(t);
    struct python py = {-1, -1, -1};
    char *buf = malloc(8192);
    struct measured m;
    struct where_line w[NOBJ];
    int r, i;

    if (!buf) {
        tour_skip(t, "out of memory");
        return -1;
    }
    if (!tour_self_exe(t)) {
        tour_skip(t, "cannot find the memwalk executable to run `where`");
        free(buf);
        return 0;
    }
    r = spawn(&py);
    if (r < 0) {
        tour_skip(t, "cannot start python3: %s", strerror(-r));
        free(buf);
        return 0;
    }
    if (read_report(py.from_child, buf, 8192, 20000) < 0 || parse_report(buf, &m) < 0) {
        finish(&py);
        free(buf);
        tour_skip(t, "python3 is not installed (or did not answer): this section needs it");
        return 0;
    }
    free(buf);
    tour_text(t,
              "A Python %s process (PID %d) printed id() of some objects and of its frames: in "
              "CPython that is the object's address. `memwalk where %d ADDR...` classifies each "
              "one in that process:",
              m.version, m.pid, m.pid);
    tour_line(t, "  %-22s %-15s %-6s %-11s %s", "object", "id()", "kind", "section", "mapping");
    r = run_where(t, m.pid, m.ids, w);
    finish(&py);
    if (r < 0) {
        tour_conclude(t, false, "`memwalk where` did not answer for every address.");
        return -1;
    }
    mw__json_str(json, "python_version", m.version);
    mw__json_int(json, "pid", m.pid);
    mw__json_array(json, "objects");
    for (i = 0; i < NOBJ; i++) {
        mw__json_object(json, NULL);
        mw__json_str(json, "expr", labels[i]);
        mw__json_uint(json, "id", m.ids[i]);
        mw__json_str(json, "kind", w[i].kind);
        mw__json_str(json, "path", w[i].path);
        mw__json_str(json, "section", w[i].section);
        mw__json_end(json);
    }
    mw__json_end(json);
    mw__json_bool(json, "small_int_cached", m.ids[SMALL] == m.ids[SMALL_AGAIN]);
    mw__json_bool(json, "big_int_cached", m.ids[BIG] == m.ids[BIG_AGAIN]);
    mw__json_int(json, "small_int_lo", m.cache_lo);
    mw__json_int(json, "small_int_hi", m.cache_hi);

    objects(t, &m, w);
    for (i = 0; i < FRAME0; i++)
        if (strcmp(w[i].kind, "stack") == 0)
            break;
    tour_conclude(t, i == FRAME0,
                  "%s: the interpreter's frames hold references, the objects live elsewhere.",
                  i == FRAME0 ? "None of these objects is on the stack"
                              : "One of these objects is on the stack");
    frames(t, &m, w);

    tour_sub(t, "Recursion: Python's limit against the C stack of section 3");
    recursion(t, &m);
    return 0;
}

const struct tour_section mw_tour_python = {"python", "Python's memory", run};
