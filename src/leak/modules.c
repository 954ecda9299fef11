/* Objects unloaded with dlclose: remembered (path, load address, extent) so that stacks taken
 * in them still name their module, and are symbolized from the file when it is still there. */
#include "leak/leak.h"

#include <elf.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#define MAX_SEEN   1024
#define MAX_GONE   4096
#define SNAP_CHARS 65536

struct seen {
    uintptr_t bias, lo, hi;
    uint32_t name; /* offset in the snapshot's strings */
};

static struct seen before[MAX_SEEN];
static size_t nbefore;
static char snap[SNAP_CHARS]; /* names copied before dlclose frees them */
static size_t snap_used;
static mw__gone_t gone[MAX_GONE];
static size_t ngone;
static char *arena; /* the gone objects' names */
static size_t arena_left;
static mw__lock_t lock;

struct walk {
    struct seen *out;
    size_t n, max;
    int copy;
};

int mw__modules_extent(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi)
{
    mw__scan_load_extent(info, 0, 0, lo, hi);
    return *hi > *lo;
}

static int seen_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct walk *w = arg;
    uintptr_t lo, hi;
    size_t len;

    (void)size;
    if (w->n == w->max || !info->dlpi_name || !info->dlpi_name[0])
        return 0;
    if (!mw__modules_extent(info, &lo, &hi))
        return 0;
    if (w->copy) {
        char path[4096];
        len = mw__modules_abspath(info->dlpi_name, path, sizeof path);
        if (snap_used + len + 1 > SNAP_CHARS)
            return 0;
        memcpy(snap + snap_used, path, len + 1);
        w->out[w->n].name = (uint32_t)snap_used;
        snap_used += len + 1;
    }
    w->out[w->n].bias = info->dlpi_addr;
    w->out[w->n].lo = lo;
    w->out[w->n].hi = hi;
    w->n++;
    return 0;
}

size_t mw__modules_abspath(const char *name, char *buf, size_t len)
{
    size_t n = 0, k = strlen(name);

    if (name[0] != '/' && strchr(name, '/') && getcwd(buf, len - 1)) {
        n = strlen(buf);
        buf[n++] = '/';
    }
    if (n + k + 1 > len)
        k = len - n - 1;
    memcpy(buf + n, name, k);
    buf[n + k] = '\0';
    return n + k;
}

void mw__modules_before_close(void)
{
    struct walk w = {before, 0, MAX_SEEN, 1};

    mw__lock(&lock);
    snap_used = 0;
    dl_iterate_phdr(seen_cb, &w);
    nbefore = w.n;
}

void mw__modules_after_close(void)
{
    static struct seen after[MAX_SEEN];
    struct walk w = {after, 0, MAX_SEEN, 0};
    size_t i, j;

    dl_iterate_phdr(seen_cb, &w);
    for (i = 0; i < nbefore; i++) {
        const char *name = snap + before[i].name;
        size_t len = strlen(name);
        int still = 0;
        for (j = 0; j < w.n && !still; j++)
            still = after[j].bias == before[i].bias && after[j].lo == before[i].lo;
        if (still)
            continue;
        if (ngone == MAX_GONE) {
            mw__leak_limit(MW__LEAK_LIMIT_MODULES, "too many unloaded objects to remember");
            break;
        }
        if (arena_left < len + 1) {
            arena = mw__leak_map(1u << 16);
            arena_left = arena ? 1u << 16 : 0;
            if (len + 1 > arena_left)
                continue;
        }
        memcpy(arena, name, len + 1);
        gone[ngone].bias = before[i].bias;
        gone[ngone].lo = before[i].lo;
        gone[ngone].hi = before[i].hi;
        gone[ngone].path = arena;
        arena += len + 1;
        arena_left -= len + 1;
        ngone++;
    }
    mw__unlock(&lock);
}

void mw__modules_lock(void)
{
    mw__lock_always(&lock);
}

void mw__modules_unlock(void)
{
    mw__unlock_always(&lock);
}

size_t mw__modules_gone(const mw__gone_t **out)
{
    *out = gone;
    return ngone;
}
