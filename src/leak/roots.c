/* The roots of the exit check are what memcheck scans: every readable and writable mapping of
 * the process (data and bss of every object, TLS and the DTV, the program's own mmap'd memory)
 * except the allocator's heap, device mappings, shared file mappings and the tracer's own
 * memory; each live thread's stack from its stack pointer up (memcheck never reads below it).
 * Stacks of threads that have exited are not roots, nor is the main thread's once it has left
 * with pthread_exit.
 *
 * The mappings are read with src/scan's allocation-free reader from /proc/thread-self/maps:
 * /proc/self/maps is empty once the main thread has exited. */
#include "leak/check.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "scan/procmaps.h"

#define REDZONE 128 /* the x86-64 red zone below the stack pointer, addressable for memcheck */

/* ---- the mappings ------------------------------------------------------------------------- */
struct map {
    uintptr_t lo, hi;
    char perms[5];
    const char *path; /* NUL-terminated, "" for anonymous memory */
};
static struct map *maps;
static size_t nmaps, maps_cap;
static char *names;
static size_t names_left;

static int add_map(const mw__maps_line_t *l)
{
    struct map *m;

    if (nmaps == maps_cap) {
        size_t ncap = maps_cap ? maps_cap * 2 : 4096;
        struct map *n = mw__leak_map(ncap * sizeof *n);
        if (!n)
            return -1;
        if (maps) {
            memcpy(n, maps, nmaps * sizeof *n);
            mw__leak_unmap(maps, maps_cap * sizeof *n);
        }
        maps = n;
        maps_cap = ncap;
    }
    if (names_left < l->path_len + 1) {
        names_left = 1u << 20;
        names = mw__leak_map(names_left);
        if (!names)
            return -1;
    }
    m = &maps[nmaps++];
    m->lo = l->lo;
    m->hi = l->hi;
    memcpy(m->perms, l->perms, sizeof m->perms);
    memcpy(names, l->path, l->path_len);
    names[l->path_len] = '\0';
    m->path = names;
    names += l->path_len + 1;
    names_left -= l->path_len + 1;
    return 0;
}

static int read_maps(void)
{
    static char buf[1u << 16]; /* in the tracer's own data: no root */
    char path[64] = "/proc/self/task/";
    mw__maps_reader_t r;
    mw__maps_line_t l;
    int got;

    if (mw__maps_open(&r, "/proc/thread-self/maps", buf, 1u << 16) < 0) {
        size_t n = strlen(path);
        n += mw__utoa((uint64_t)syscall(SYS_gettid), path + n);
        memcpy(path + n, "/maps", 6);
        if (mw__maps_open(&r, path, buf, 1u << 16) < 0 &&
            mw__maps_open(&r, "/proc/self/maps", buf, 1u << 16) < 0)
            return -1;
    }
    nmaps = 0;
    while ((got = mw__maps_next(&r, &l)) != 0) {
        if (got == 1 && add_map(&l) < 0)
            break;
        if (got < 0 && got != -22 /* EINVAL: a line skipped */)
            break;
    }
    mw__maps_close(&r);
    return 0;
}

static const struct map *map_of(uintptr_t a)
{
    size_t lo = 0, hi = nmaps;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (maps[mid].hi <= a)
            lo = mid + 1;
        else if (maps[mid].lo > a)
            hi = mid;
        else
            return &maps[mid];
    }
    return NULL;
}

/* memcheck's test for a vtable: inside a readable file mapping, and among its first 20 words
 * two non-null ones point into executable file mappings before any word points elsewhere. */
int mw__roots_is_vtable(uintptr_t a)
{
    const struct map *m = map_of(a);
    uintptr_t end, w;
    int fns = 0;

    if (!m || m->path[0] != '/' || m->perms[0] != 'r')
        return 0;
    end = a + 20 * sizeof(uintptr_t);
    if (end > m->hi - sizeof(uintptr_t))
        end = m->hi - sizeof(uintptr_t);
    for (w = a; w <= end; w += sizeof(uintptr_t)) {
        uintptr_t fn = *(const uintptr_t *)w;
        const struct map *f;
        if (!fn)
            continue;
        f = map_of(fn);
        if (!f || f->path[0] != '/' || f->perms[2] != 'x')
            return 0;
        if (++fns == 2)
            return 1;
    }
    return 0;
}

/* ---- what is no root ---------------------------------------------------------------------- */
#define EX_CAP 65536
static mw__pair_t *ex; /* key = lo, val = hi */
static size_t nex;
static size_t nex_global; /* exclusions valid for every mapping; the rest are per mapping */

static void exclude(uintptr_t lo, uintptr_t hi)
{
    if (lo >= hi)
        return;
    if (nex == EX_CAP) {
        mw__leak_limit(MW__LEAK_LIMIT_RANGES, "too many ranges for the scan to skip");
        return;
    }
    ex[nex].key = lo;
    ex[nex].val = hi;
    nex++;
}

/* ---- pages never written --------------------------------------------------------------------
 * A page of private anonymous memory that is neither present nor swapped out has never been
 * written: it reads as zeros and holds no pointer. /proc/thread-self/pagemap says which pages
 * those are (8 bytes a page; the flags need no privilege), so the scan skips them, and with
 * them a page fault for every untouched page of the program's reservations (an interpreter's
 * arenas, the unused part of a thread's stack). Shared memory and file mappings are read whole:
 * their pages can hold data without being in this process's page tables. */
#define PM_PRESENT_OR_SWAPPED (3ull << 62)
#define PM_MIN_PAGES          8

static int pagemap_fd = -1;

static void pagemap_open(void)
{
    pagemap_fd = open("/proc/thread-self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pagemap_fd < 0)
        pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
}

/* Calls fn for the runs of written pages of [lo, hi), private anonymous memory; 0, or -1 when
 * pagemap cannot tell (the caller scans the range whole). */
static int written_runs(uintptr_t lo, uintptr_t hi, void (*fn)(uintptr_t, uintptr_t, void *),
                        void *ctx)
{
    static uint64_t pm[512]; /* in the tracer's own data: no root */
    const uintptr_t page = 4096;
    uintptr_t a = lo & ~(page - 1), run = 0;
    int in_run = 0;

    if (pagemap_fd < 0 || (hi - a) / page < PM_MIN_PAGES)
        return -1;
    while (a < hi) {
        size_t n = (hi - a + page - 1) / page, k;
        ssize_t got;
        if (n > sizeof pm / sizeof *pm)
            n = sizeof pm / sizeof *pm;
        got = pread(pagemap_fd, pm, n * sizeof *pm, (off_t)(a / page * sizeof *pm));
        if (got < (ssize_t)sizeof *pm) {
            fn(in_run ? run : a < lo ? lo : a, hi, ctx);
            return 0;
        }
        n = (size_t)got / sizeof *pm;
        for (k = 0; k < n; k++, a += page) {
            int written = (pm[k] & PM_PRESENT_OR_SWAPPED) != 0;
            if (written && !in_run) {
                run = a < lo ? lo : a;
                in_run = 1;
            } else if (!written && in_run) {
                fn(run, a, ctx);
                in_run = 0;
            }
        }
    }
    if (in_run)
        fn(run, hi, ctx);
    return 0;
}

static void range_run(uintptr_t lo, uintptr_t hi, void *ctx)
{
    (void)ctx;
    mw__mark_range(lo, hi);
}

void mw__roots_scan_written(uintptr_t lo, uintptr_t hi, void (*fn)(uintptr_t, uintptr_t, void *),
                            void *ctx)
{
    const struct map *m = map_of(lo);

    if (m && hi <= m->hi && m->perms[3] == 'p' && (m->path[0] == '\0' || m->path[0] == '[') &&
        written_runs(lo, hi, fn, ctx) == 0)
        return;
    fn(lo, hi, ctx);
}

/* Scans [lo, hi) of a large mapping page by page, skipping pages never touched. */
static void scan_sparse(uintptr_t lo, uintptr_t hi, int private_anon)
{
    const size_t page = 4096, window = 1024;
    unsigned char vec[1024];
    uintptr_t w;

    if (private_anon && written_runs(lo, hi, range_run, NULL) == 0)
        return;
    if (hi - lo < (64u << 20)) {
        mw__mark_range(lo, hi);
        return;
    }
    for (w = lo & ~(uintptr_t)(page - 1); w < hi; w += window * page) {
        uintptr_t wend = w + window * page < hi ? w + window * page : hi;
        size_t k, pages = (wend - w + page - 1) / page;
        if (mincore((void *)w, wend - w, vec) < 0) {
            mw__mark_range(w < lo ? lo : w, wend);
            continue;
        }
        for (k = 0; k < pages; k++)
            if (vec[k] & 1) {
                uintptr_t a = w + k * page, b = a + page;
                mw__mark_range(a < lo ? lo : a, b > hi ? hi : b);
            }
    }
}

static void scan_private_anon(void *ctx, uintptr_t lo, uintptr_t hi)
{
    (void)ctx;
    scan_sparse(lo, hi, 1);
}

static void scan_other(void *ctx, uintptr_t lo, uintptr_t hi)
{
    (void)ctx;
    scan_sparse(lo, hi, 0);
}

/* Scans [lo, hi) minus every exclusion range (key, val: two words, as mw__scan_minus reads). */
_Static_assert(sizeof(uintptr_t) == sizeof(uint64_t), "an exclusion is two words");
static void scan_minus(uintptr_t lo, uintptr_t hi, int private_anon)
{
    mw__scan_minus(lo, hi, ex, nex, sizeof *ex, private_anon ? scan_private_anon : scan_other,
                   NULL);
}

/* Adds to the exclusions what the allocator owns inside [lo, hi): glibc's arena heaps (64 MiB
 * aligned, headed by a heap_info whose size field says how much is in use) and the mappings of
 * large blocks (their own mmap'd chunks: the kernel may have merged them with neighbouring
 * memory that is a real root, such as an interpreter's arenas). Returns -1 when tracked blocks
 * remain in memory the allocator was not recognised to own (another allocator's arenas): the
 * caller then skips the whole mapping rather than take freed memory for roots. */
static int allocator_ranges(uintptr_t lo, uintptr_t hi, int anonymous)
{
    const uintptr_t heap_max = 64u << 20, page = 4096;
    const struct mw__cb *B = mw__B;
    uintptr_t a;
    size_t i, first = 0, n = mw__N, kg = 0, kl = nex_global;
    uintptr_t rg = 0, rl = 0; /* highest end among exclusions starting at or below */

    if (anonymous) {
        for (a = (lo + heap_max - 1) & ~(heap_max - 1); a >= lo && a < hi; a += heap_max) {
            const uintptr_t *hinfo = (const uintptr_t *)a;
            uintptr_t ar = hinfo[0], size = hinfo[2];
            if (((ar > a && ar < a + heap_max) || (ar & (heap_max - 1)) < page) && size &&
                size <= heap_max)
                exclude(a, a + size < hi ? a + size : hi);
        }
    }
    /* Large blocks: their whole pages. */
    while (first < n) {
        size_t mid = first + (n - first) / 2;
        if (B[mid].addr < lo)
            first = mid + 1;
        else
            n = mid;
    }
    for (i = first; i < mw__N && B[i].addr < hi; i++) {
        uintptr_t real = B[i].addr - B[i].off;
        size_t usable;
        if (B[i].size + B[i].off < (64u << 10) || !mw__real.malloc_usable_size)
            continue;
        usable = mw__real.malloc_usable_size((void *)real);
        exclude((real - 16) & ~(page - 1), (real + usable + page - 1) & ~(page - 1));
    }
    mw__sort_pairs(ex + nex_global, nex - nex_global);
    /* Any block left outside every exclusion: memory of an allocator we do not know. Blocks
     * and both exclusion lists (global, this mapping's) are sorted: merge walks. */
    for (i = first; i < mw__N && B[i].addr < hi; i++) {
        while (kg < nex_global && ex[kg].key <= B[i].addr) {
            rg = ex[kg].val > rg ? ex[kg].val : rg;
            kg++;
        }
        while (kl < nex && ex[kl].key <= B[i].addr) {
            rl = ex[kl].val > rl ? ex[kl].val : rl;
            kl++;
        }
        if (B[i].addr >= rg && B[i].addr >= rl)
            return -1;
    }
    return 0;
}

static void scan_maps(const struct mw__check_in *in)
{
    size_t m, i;

    for (m = 0; m < nmaps; m++) {
        uintptr_t lo = maps[m].lo, hi = maps[m].hi, start;
        const char *perms = maps[m].perms, *path = maps[m].path;

        if (perms[0] != 'r' || perms[1] != 'w')
            continue;
        if (*path == '/' && strncmp(path, "/dev/", 5) == 0 && strncmp(path, "/dev/zero", 9) != 0)
            continue;
        if (strncmp(path, "[heap]", 6) == 0 || strncmp(path, "[vvar]", 6) == 0)
            continue;
        if (in->main_gone && strncmp(path, "[stack]", 7) == 0)
            continue; /* the main thread has exited: its stack is dead */
        if (perms[3] == 's' && *path == '/' && strncmp(path, "/dev/zero", 9) != 0 &&
            strncmp(path, "/SYSV", 5) != 0)
            continue;
        /* A live stack: from its stack pointer up (the red zone below it included). */
        start = lo;
        if (in->self_sp >= lo && in->self_sp < hi) {
            start = in->self_sp;
        } else {
            for (i = 0; i < in->nthreads; i++) {
                uintptr_t sp = in->threads[i].sp;
                if (sp >= lo && sp < hi) {
                    start = sp - REDZONE > lo ? sp - REDZONE : lo;
                    break;
                }
            }
        }
        /* The allocator's memory is no root: its blocks are scanned only when reached. */
        if (allocator_ranges(lo, hi, *path == '\0' || *path == '[') == 0)
            scan_minus(start, hi, perms[3] == 'p' && (*path == '\0' || *path == '['));
        nex = nex_global;
    }
}

int mw__roots_scan(const struct mw__check_in *in)
{
    static uintptr_t olo[16400], ohi[16400], dlo[4096], dhi[4096];
    size_t nown, ndead, i, t;

    ex = mw__leak_map(EX_CAP * sizeof *ex);
    if (!ex || read_maps() < 0)
        return -1;
    /* Our own memory (what the check itself mapped included), and the stacks of exited threads no
     * live thread reuses. */
    nex = 0;
    nown = mw__leak_own_ranges(olo, ohi, 16400);
    for (i = 0; i < nown; i++)
        exclude(olo[i], ohi[i]);
    ndead = mw__world_dead_stacks(dlo, dhi, 4096);
    for (i = 0; i < ndead; i++) {
        int live = in->self_sp >= dlo[i] && in->self_sp < dhi[i];
        for (t = 0; t < in->nthreads && !live; t++)
            live = in->threads[t].sp >= dlo[i] && in->threads[t].sp < dhi[i];
        if (!live)
            exclude(dlo[i], dhi[i]);
    }
    mw__sort_pairs(ex, nex);
    nex_global = nex;
    pagemap_open();
    scan_maps(in);
    /* maps stay mapped: the process is about to end */
    return 0;
}

void mw__roots_done(void)
{
    if (pagemap_fd >= 0)
        close(pagemap_fd);
    pagemap_fd = -1;
}
