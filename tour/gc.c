/* Tour section "gc": Points allocated with mw_gc_malloc and never freed, dropped, collected; each
 * finalizer prints once (the __del__ of C); the collector's statistics before and after. */
#include "tour/tour.h"

#include <memwalk/gc.h>
#include <memwalk/show.h>
#include <string.h>

#define DROPPED 5

typedef struct gc_point {
    int x, y;
} gc_point;

static struct {
    struct tour *t;
    int finalized;         /* finalizer calls */
    int finalized_kept;    /* of which for the kept point */
    uintptr_t kept_hidden; /* the kept point's address, inverted: a plain copy in this global
                            * would be a root and keep the point alive */
} fin;

static void point_del(void *obj, void *ctx)
{
    const gc_point *p = obj;

    (void)ctx;
    fin.finalized++;
    if ((uintptr_t)obj == ~fin.kept_hidden)
        fin.finalized_kept++;
    tour_line(fin.t, "    __del__ {x: %d, y: %d} at %p", p->x, p->y, obj);
}

static gc_point *point_new(int x, int y)
{
    gc_point *p = mw_gc_malloc(sizeof *p);

    if (p) {
        p->x = x;
        p->y = y;
        mw_gc_set_finalizer(p, point_del, NULL);
    }
    return p;
}

/* The kept point: a global, a root the collector scans. */
static gc_point *volatile kept; /* volatile: written, never read, yet it must exist */

/* The kept point is made, shown and dropped by helpers, so that run()'s own frame never holds a
 * copy of its address that a conservative scan would find after the drop. */
__attribute__((noinline)) static int make_kept(char *line, size_t len)
{
    kept = point_new(1, 1);
    if (!kept)
        return -1;
    fin.kept_hidden = ~(uintptr_t)kept;
    mw_show_format("kept", kept, line, len);
    return 0;
}

__attribute__((noinline)) static void drop_kept(void)
{
    kept = NULL;
}

/* Allocates points and drops them: once this returns nothing refers to them. */
__attribute__((noinline)) static int make_and_drop(int n)
{
    int made = 0;

    for (int i = 1; i <= n; i++)
        made += point_new(i, 10 * i) != NULL;
    return made;
}

/* A conservative collector keeps what a stale stack word still points to. Wiping the dead part
 * of the stack below this frame makes the demonstration exact; real programs need not bother. */
__attribute__((noinline)) static void wipe_dead_stack(void)
{
    volatile char buf[32768];

    memset((char *)buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

static void stats_line(struct tour *t, const char *when, const mw_gc_stats_t *s)
{
    char heap[32], live[32];

    tour_line(
        t, "  %-18s collections %llu, heap %s, live %s, finalizers %llu", when,
        (unsigned long long)s->collections, mw__format_bytes(s->heap_bytes, heap, sizeof heap),
        mw__format_bytes(s->live_bytes, live, sizeof live), (unsigned long long)s->finalizers_run);
}

static void stats_json(struct tour *t, const char *key, const mw_gc_stats_t *s)
{
    mw__json_t *j = tour_json(t);

    mw__json_object(j, key);
    mw__json_uint(j, "collections", s->collections);
    mw__json_uint(j, "heap_bytes", s->heap_bytes);
    mw__json_uint(j, "live_bytes", s->live_bytes);
    mw__json_uint(j, "allocated_bytes", s->allocated_bytes);
    mw__json_uint(j, "freed_bytes", s->freed_bytes);
    mw__json_uint(j, "finalizers_run", s->finalizers_run);
    mw__json_uint(j, "pause_max_ns", s->pause_max_ns);
    mw__json_end(j);
}

static int run(struct tour *t)
{
    mw__json_t *json = tour_json(t);
    mw_gc_stats_t s0, s1, s2;
    char line[512];
    int made, after_first, after_second, kept_after_first;

    memset(&fin, 0, sizeof fin);
    fin.t = t;
    tour_text(t, "Points come from mw_gc_malloc and are never freed by hand; each has a finalizer "
                 "that prints when the collector finds it unreachable, once.");
    mw_gc_get_stats(&s0);

    tour_sub(t, "Allocate");
    if (make_kept(line, sizeof line) < 0) {
        tour_conclude(t, false, "mw_gc_malloc failed: the collector could not get memory.");
        return -1;
    }
    tour_line(t, "  %s   (held by a global)", line);
    made = make_and_drop(DROPPED);
    tour_line(t, "  %d more points made by make_and_drop() and dropped when it returned", made);
    mw_gc_get_stats(&s1);
    stats_line(t, "before collecting:", &s1);

    tour_sub(t, "Collect (the kept point is still referenced)");
    wipe_dead_stack();
    mw_gc_collect();
    after_first = fin.finalized;
    kept_after_first = fin.finalized_kept;
    tour_line(t, "  %d finalizers ran", after_first);

    tour_sub(t, "Drop the kept point too, and collect again");
    drop_kept();
    wipe_dead_stack();
    mw_gc_collect();
    after_second = fin.finalized - after_first;
    tour_line(t, "  %d finalizer ran", after_second);
    mw_gc_collect(); /* a third time: nothing left to finalize, nothing runs twice */
    mw_gc_get_stats(&s2);
    stats_line(t, "after collecting:", &s2);

    mw__json_int(json, "dropped", made);
    mw__json_int(json, "finalized_first", after_first);
    mw__json_int(json, "finalized_second", after_second);
    mw__json_int(json, "finalized_total", fin.finalized);
    mw__json_int(json, "finalized_kept", fin.finalized_kept);
    mw__json_str(json, "kept_kind", strstr(line, " gc-heap") ? "gc-heap" : "other");
    stats_json(t, "stats_start", &s0);
    stats_json(t, "stats_before", &s1);
    stats_json(t, "stats_after", &s2);

    tour_conclude(t, strstr(line, " gc-heap") != NULL,
                  strstr(line, " gc-heap")
                      ? "A collected object lives in the collector's own chunks (gc-heap), "
                        "memory it maps from the system, not in malloc's heap."
                      : "MW_SHOW did not recognise the collector's object as gc-heap.");
    if (after_first == made && kept_after_first == 0)
        tour_conclude(t, true,
                      "The first collection found the %d dropped points unreachable and ran each "
                      "finalizer; the kept point, still referenced from a global, survived.",
                      made);
    else
        tour_conclude(t, false,
                      "The first collection finalized %d of the %d dropped points (a conservative "
                      "collector keeps what a stray word still points to)%s.",
                      after_first, made,
                      kept_after_first ? ", and it finalized the kept point too" : "");
    tour_conclude(t, after_second == 1 && fin.finalized_kept == 1 && fin.finalized == made + 1,
                  "Once dropped, the kept point was finalized in turn: %d finalizer calls for %d "
                  "points in all, none twice.",
                  fin.finalized, made + 1);
    tour_conclude(t, s2.freed_bytes > s1.freed_bytes,
                  "The collections freed %llu bytes and paused the program %.2f ms at most: "
                  "nobody called free.",
                  (unsigned long long)(s2.freed_bytes - s1.freed_bytes),
                  (double)s2.pause_max_ns / 1e6);
    return 0;
}

const struct tour_section mw_tour_gc = {"gc", "Garbage collection", run};
