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

/* Prints its PID, then id() of each object, then waits for stdin to close. The second field of
 * each pair is a fresh object equal to the first, made at run time, to show caching. */
static const char script[] =
    "import os, sys\n"
    "small = 1\n"
    "big = 10**20\n"
    "text = 'memwalk'\n"
    "items = [small, big, text]\n"
    "print(os.getpid(), id(small), id(int('1')), id(big), id(int(str(10**20))), id(text),\n"
    "      id(None), id(items), sys.version.split()[0], flush=True)\n"
    "sys.stdin.read()\n";

enum { SMALL, SMALL_AGAIN, BIG, BIG_AGAIN, TEXT, NONE, LIST, NOBJ };
static const char *const labels[NOBJ] = {
    "1", "int('1')", "10**20", "int(str(10**20))", "'memwalk'", "None", "[1, 10**20, 'memwalk']"};

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

/* Reads one line from fd within timeout_ms. Returns its length, or -1. */
static int read_line(int fd, char *buf, size_t len, int timeout_ms)
{
    size_t n = 0;

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
        if (strchr(buf, '\n'))
            return (int)n;
    }
    return -1;
}

struct where_line {
    char kind[32];
    char path[256];
    char section[64];
};

/* Runs `memwalk where PID ADDR...` and splits each output line. */
static int run_where(struct tour *t, pid_t pid, const unsigned long long *ids, struct where_line *w)
{
    char cmd[1024];
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
        {
            /* The where line, with its region range dropped and the path cut to its last
             * component, to fit the tour's width. */
            const char *base = strrchr(w[i].path, '/');
            tour_line(t, "  %-24s %-16s %-5s %-12s %s", labels[i], addr, w[i].kind,
                      w[i].section[0] ? w[i].section : "-", base ? base + 1 : w[i].path);
        }
    }
    pclose(p);
    return i == NOBJ ? 0 : -EIO;
}

static bool in_python_image(const struct where_line *w)
{
    return strstr(w->path, "python") != NULL;
}

static int run(struct tour *t)
{
    struct python py = {-1, -1, -1};
    char line[1024], version[32] = "?";
    unsigned long long ids[NOBJ];
    struct where_line w[NOBJ];
    int pid, r, i;
    const char *image;

    if (!tour_self_exe(t)) {
        tour_skip(t, "cannot find the memwalk executable to run `where`");
        return 0;
    }
    r = spawn(&py);
    if (r < 0) {
        tour_skip(t, "cannot start python3: %s", strerror(-r));
        return 0;
    }
    if (read_line(py.from_child, line, sizeof line, 10000) < 0 ||
        sscanf(line, "%d %llu %llu %llu %llu %llu %llu %llu %31s", &pid, &ids[0], &ids[1], &ids[2],
               &ids[3], &ids[4], &ids[5], &ids[6], version) != 9) {
        finish(&py);
        tour_skip(t, "python3 is not installed (or did not answer): this section needs it");
        return 0;
    }
    tour_line(t,
              "A Python %s process (PID %d) printed id() of some objects: in CPython that is "
              "the object's",
              version, pid);
    tour_line(t, "address. `memwalk where %d ADDR...` classifies each one in that process:", pid);
    tour_line(t, "  %-24s %-16s %-5s %-12s %s", "object", "id()", "kind", "section", "mapping");
    r = run_where(t, pid, ids, w);
    finish(&py);
    if (r < 0) {
        tour_conclude(t, false, "`memwalk where` did not answer for every address.");
        return -1;
    }
    tour_json_str(t, "python_version", version);
    tour_json_int(t, "pid", pid);
    tour_json_array(t, "objects");
    for (i = 0; i < NOBJ; i++) {
        tour_json_open(t, NULL);
        tour_json_str(t, "expr", labels[i]);
        tour_json_uint(t, "id", ids[i]);
        tour_json_str(t, "kind", w[i].kind);
        tour_json_str(t, "path", w[i].path);
        tour_json_str(t, "section", w[i].section);
        tour_json_close(t);
    }
    tour_json_close(t);
    tour_json_bool(t, "small_int_cached", ids[SMALL] == ids[SMALL_AGAIN]);
    tour_json_bool(t, "big_int_cached", ids[BIG] == ids[BIG_AGAIN]);

    image = strrchr(w[SMALL].path, '/') ? strrchr(w[SMALL].path, '/') + 1 : w[SMALL].path;
    if (ids[SMALL] == ids[SMALL_AGAIN] && ids[BIG] != ids[BIG_AGAIN])
        tour_conclude(t, true,
                      "1 and int('1') are one object: small ints (-5..256) are made once and "
                      "shared. 10**20 and an equal int built at run time are two objects.");
    else
        tour_conclude(t, false,
                      "Caching differs from CPython's usual: 1 %s int('1'), 10**20 %s "
                      "its run-time twin.",
                      ids[SMALL] == ids[SMALL_AGAIN] ? "is" : "is not",
                      ids[BIG] == ids[BIG_AGAIN] ? "is" : "is not");
    if ((strcmp(w[SMALL].kind, "data") == 0 || strcmp(w[SMALL].kind, "bss") == 0) &&
        in_python_image(&w[SMALL]))
        tour_conclude(t, true,
                      "The small int 1 is not on the heap, nor on the stack: it sits in %s's %s "
                      "(%s), a static object compiled into the interpreter. (Older Pythons "
                      "built them with malloc at start-up, so they were on the heap.)",
                      image, w[SMALL].kind, w[SMALL].section[0] ? w[SMALL].section : "no section");
    else
        tour_conclude(t, false, "The small int 1 was found in %s memory (%s).", w[SMALL].kind,
                      w[SMALL].path);
    if (strcmp(w[BIG].kind, "anon") == 0 || strcmp(w[BIG].kind, "heap") == 0)
        tour_conclude(t, true, "10**20 is an ordinary object and lives in %s memory: %s.",
                      w[BIG].kind,
                      strcmp(w[BIG].kind, "anon") == 0
                          ? "one of pymalloc's arenas, anonymous mappings it takes from the "
                            "system, not the [heap] that brk grows"
                          : "the malloc heap");
    else
        tour_conclude(t, false, "10**20 was found in %s memory.", w[BIG].kind);
    if (strcmp(w[NONE].kind, "data") == 0 || strcmp(w[NONE].kind, "bss") == 0)
        tour_conclude(t, true, "None is static too (%s): one object for the whole process.",
                      w[NONE].kind);
    else
        tour_conclude(t, false, "None was found in %s memory.", w[NONE].kind);
    for (i = 0; i < NOBJ; i++)
        if (strcmp(w[i].kind, "stack") == 0)
            break;
    tour_conclude(t, i == NOBJ,
                  "%s: the interpreter's frames hold references, the objects live elsewhere.",
                  i == NOBJ ? "None of these objects is on the stack"
                            : "One of these objects is on the stack");
    return 0;
}

const struct tour_section mw_tour_python = {"python", "Python's memory", run};
