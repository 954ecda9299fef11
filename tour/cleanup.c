/* Tour section "cleanup": the seed's AUTO_FREE Points on cleanup.h, with every cleanup call
 * printed as it happens, ownership leaving a scope, an early exit from a loop, a descriptor, and
 * a count of what is left. */
#include "tour/tour.h"

#include <errno.h>
#include <fcntl.h>
#include <memwalk/cleanup.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct tour_point {
    int x, y;
    char name[16];
} tour_point;

#define LOG_MAX 16

/* What the cleanups did, in the order they ran. */
static struct {
    struct tour *t;
    char names[LOG_MAX][16];
    int n;
    int made;           /* points allocated */
    int by_hand;        /* of the frees, those made by an explicit call */
    bool explicit_call; /* the next point_free is called by hand, not by a cleanup */
} cleanup_log;

static tour_point *point_new(const char *name, int x, int y)
{
    tour_point *p = malloc(sizeof *p);

    if (p) {
        p->x = x;
        p->y = y;
        snprintf(p->name, sizeof p->name, "%s", name);
        cleanup_log.made++;
        tour_line(cleanup_log.t, "    %s = point_new(%d, %d)  -> %p", name, x, y, (void *)p);
    }
    return p;
}

static void point_free(tour_point *p)
{
    if (cleanup_log.explicit_call)
        tour_line(cleanup_log.t, "    point_free(%s) at %p   (an explicit call)", p->name,
                  (void *)p);
    else
        tour_line(cleanup_log.t, "    cleanup: point_free(%s) at %p", p->name, (void *)p);
    cleanup_log.by_hand += cleanup_log.explicit_call;
    cleanup_log.explicit_call = false;
    if (cleanup_log.n < LOG_MAX)
        snprintf(cleanup_log.names[cleanup_log.n++], sizeof cleanup_log.names[0], "%s", p->name);
    free(p);
}

MW_DEFINE_CLEANUP(tour_point, point_free)

/* Joins the names logged from index `from` on, for the JSON record and the conclusions. */
static const char *logged(int from, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
    for (int i = from; i < cleanup_log.n && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i > from ? " " : "", cleanup_log.names[i]);
    return buf;
}

__attribute__((noinline)) static void two_points(void)
{
    MW_AUTO(tour_point) p1 = point_new("p1", 1, 1);
    MW_AUTO(tour_point) p2 = point_new("p2", 1, 32);

    if (p1 && p2)
        tour_line(cleanup_log.t, "    leaving the scope: p1 {x: %d, y: %d}, p2 {x: %d, y: %d}",
                  p1->x, p1->y, p2->x, p2->y);
}

/* Makes a point and hands it to the caller: the cleanup still runs, on NULL. */
__attribute__((noinline)) static tour_point *make_kept(void)
{
    MW_AUTO(tour_point) p = point_new("kept", 3, 4);

    if (!p)
        return NULL;
    tour_line(cleanup_log.t, "    return mw_take_ptr(p);   (p becomes NULL, its cleanup skips it)");
    return mw_take_ptr(p);
}

__attribute__((noinline)) static int loop_with_break(void)
{
    int i;

    for (i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "loop%d", i);
        MW_AUTO(tour_point) q = point_new(name, i, i);
        (void)q; /* only its cleanup matters (clang warns otherwise) */
        if (i == 2) {
            tour_line(cleanup_log.t, "    break at i == 2");
            break;
        }
    }
    return i + 1;
}

/* Opens /dev/null with mw_autoclose; returns the descriptor number, closed by then. */
__attribute__((noinline)) static int scoped_fd(void)
{
    mw_autoclose int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    tour_line(cleanup_log.t, "    mw_autoclose int fd = open(\"/dev/null\")  -> %d", fd);
    return fd;
}

static int run(struct tour *t)
{
    mw__json_t *json = tour_json(t);
    char buf[256];
    int mark, iterations, fd;
    bool order_ok, take_ok, loop_ok, fd_closed;
    tour_point *kept;

    memset(&cleanup_log, 0, sizeof cleanup_log);
    cleanup_log.t = t;
    tour_text(t, "MW_AUTO(tour_point) declares a pointer released by point_free when its scope "
                 "ends; the calls below are printed by point_free itself, as they happen.");

    tour_sub(t, "Two points in one scope (the classic AUTO_FREE program)");
    two_points();
    order_ok = cleanup_log.n == 2 && strcmp(cleanup_log.names[0], "p2") == 0 &&
               strcmp(cleanup_log.names[1], "p1") == 0;
    mw__json_str(json, "scope_order", logged(0, buf, sizeof buf));
    if (order_ok)
        tour_conclude(t, true,
                      "Both points were freed when the scope ended, p2 first: cleanups run in "
                      "reverse order of declaration, like destructors.");
    else
        tour_conclude(t, false, "The cleanups ran as: %s.", buf);

    tour_sub(t, "Ownership leaves a scope with mw_take_ptr");
    mark = cleanup_log.n;
    kept = make_kept();
    take_ok = kept && cleanup_log.n == mark;
    tour_line(t, "    back in the caller: kept = %p {x: %d, y: %d}, still ours", (void *)kept,
              kept ? kept->x : 0, kept ? kept->y : 0);
    if (kept) {
        cleanup_log.explicit_call = true;
        point_free(kept);
    }
    mw__json_bool(json, "taken_survived_scope", take_ok);
    tour_conclude(t, take_ok,
                  take_ok ? "The taken point survived its scope (the cleanup saw NULL) and was "
                            "freed once, by its new owner."
                          : "The taken point was freed by its scope's cleanup: ownership did not "
                            "transfer.");

    tour_sub(t, "A loop left with break");
    mark = cleanup_log.n;
    iterations = loop_with_break();
    loop_ok = cleanup_log.n - mark == iterations;
    mw__json_int(json, "loop_iterations", iterations);
    mw__json_int(json, "loop_cleanups", cleanup_log.n - mark);
    tour_conclude(t, loop_ok,
                  "%d iterations ran and %d cleanups happened (%s): each iteration's scope ends "
                  "at its closing brace, and break ends it too.",
                  iterations, cleanup_log.n - mark, logged(mark, buf, sizeof buf));

    tour_sub(t, "A file descriptor");
    fd = scoped_fd();
    fd_closed = fd >= 0 && fcntl(fd, F_GETFD) < 0 && errno == EBADF;
    mw__json_bool(json, "fd_closed", fd_closed);
    tour_conclude(t, fd_closed,
                  fd_closed ? "After the scope, descriptor %d is closed (fcntl says EBADF): "
                              "mw_autoclose works for any resource, not only memory."
                            : "Descriptor %d is still open after its scope.",
                  fd);

    /* Every free went through point_free, which logs it (the loop's overflow of the log
     * aside, which cannot happen with these counts). */
    mw__json_int(json, "points_made", cleanup_log.made);
    mw__json_int(json, "points_freed", cleanup_log.n);
    mw__json_int(json, "points_freed_by_hand", cleanup_log.by_hand);
    tour_gap(t);
    tour_line(t,
              "  points made: %d; freed: %d, %d by their scope's cleanup and %d by an explicit "
              "call",
              cleanup_log.made, cleanup_log.n, cleanup_log.n - cleanup_log.by_hand,
              cleanup_log.by_hand);
    tour_conclude(t, cleanup_log.made == cleanup_log.n, "%d of %d points are still allocated: %s",
                  cleanup_log.made - cleanup_log.n, cleanup_log.made,
                  cleanup_log.made == cleanup_log.n
                      ? "the scopes released everything they owned, and the one that left its "
                        "scope was released by its new owner."
                      : "some point was never released.");
    return 0;
}

const struct tour_section mw_tour_cleanup = {"cleanup", "Cleanup", run};
