/* The exit-time leak check: find the roots, mark what they reach, classify every live block the
 * way memcheck does, and sum the blocks into loss records (one per allocation stack and kind).
 *
 * Roots are what memcheck scans: every readable and writable mapping of the process (data and
 * bss of every object, TLS and the DTV, the program's own mmap'd memory) except the allocator's
 * heap, device mappings, shared file mappings and the tracer's own memory; each live thread's
 * stack from its stack pointer up (memcheck never reads below it) and its registers. Stacks of
 * threads that have exited are not roots.
 *
 * Marking: a block reached through a pointer to its start from a root, or from a block that is
 * itself still reachable, is still reachable; reached otherwise (through an interior pointer,
 * or from a possibly lost block) it is possibly lost. Then, taking the unreached blocks in
 * allocation order, each one that is still unreached becomes a definitely lost "clique leader"
 * and everything unreached that it reaches is indirectly lost, its bytes credited to the leader;
 * in an unreachable cycle the first allocated block is therefore the definite one. */
#include "leak/leak.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scan/scan.h"

#define REDZONE 128 /* the x86-64 red zone below the stack pointer, addressable for memcheck */

struct cb {
    uintptr_t addr;
    uint64_t size;
    uint64_t seq;
    uint64_t indirect;
    uint32_t trace;
    uint32_t state; /* enum mw__leak_kind; starts DEFINITE (memcheck's "unreached") */
    uint64_t off;   /* addr - the allocator's pointer */
    uint8_t heur;   /* the memcheck heuristic that made it reachable, 0 if none */
};

static struct cb *B;
static size_t N;
static uintptr_t lo_addr, hi_addr; /* any pointer outside [lo_addr, hi_addr) hits nothing */
static uint32_t *stack;
static size_t top, stack_cap;
static uint64_t scanned;

/* ---- sorting (heapsort: no allocation, no recursion) -------------------------------------- */
static void sift_blocks(struct cb *a, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        struct cb t;
        if (c >= n)
            return;
        if (c + 1 < n && a[c + 1].addr > a[c].addr)
            c++;
        if (a[i].addr >= a[c].addr)
            return;
        t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

static void sort_blocks(struct cb *a, size_t n)
{
    size_t i;

    for (i = n / 2; i-- > 0;)
        sift_blocks(a, i, n);
    for (i = n; i-- > 1;) {
        struct cb t = a[0];
        a[0] = a[i];
        a[i] = t;
        sift_blocks(a, 0, i);
    }
}

static void sift_seq(uint32_t *a, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        uint32_t t;
        if (c >= n)
            return;
        if (c + 1 < n && B[a[c + 1]].seq > B[a[c]].seq)
            c++;
        if (B[a[i]].seq >= B[a[c]].seq)
            return;
        t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

static void sort_by_seq(uint32_t *a, size_t n)
{
    size_t i;

    for (i = n / 2; i-- > 0;)
        sift_seq(a, i, n);
    for (i = n; i-- > 1;) {
        uint32_t t = a[0];
        a[0] = a[i];
        a[i] = t;
        sift_seq(a, 0, i);
    }
}

/* ---- marking ------------------------------------------------------------------------------ */
static long find(uintptr_t v)
{
    size_t lo = 0, hi = N;

    if (v < lo_addr || v >= hi_addr)
        return -1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (B[mid].addr <= v)
            lo = mid;
        else
            hi = mid;
    }
    if (B[lo].addr > v)
        return -1;
    if (v < B[lo].addr + B[lo].size || (B[lo].size == 0 && v == B[lo].addr))
        return (long)lo;
    return -1;
}

static void push(size_t i)
{
    if (top < stack_cap)
        stack[top++] = (uint32_t)i;
}

static unsigned heuristic(uintptr_t v, const struct cb *b);

static void hit(uintptr_t v, int prior_definite)
{
    long i = find(v);
    struct cb *b;
    int as_start;

    if (i < 0)
        return;
    b = &B[i];
    if (b->state == MW__LEAK_REACHABLE) {
        if (b->heur && v == b->addr)
            b->heur = 0; /* reachable through its start after all */
        return;
    }
    as_start = v == b->addr;
    if (!as_start) {
        b->heur = (uint8_t)heuristic(v, b);
        as_start = b->heur != 0;
    }
    if (as_start && prior_definite) {
        b->state = MW__LEAK_REACHABLE;
        push((size_t)i);
    } else if (b->state == MW__LEAK_DEFINITE) {
        b->state = MW__LEAK_POSSIBLE;
        push((size_t)i);
    }
}

static void clique_hit(uintptr_t v, size_t leader)
{
    long i = find(v);
    struct cb *b;

    if (i < 0 || (size_t)i == leader)
        return;
    b = &B[i];
    if (b->state != MW__LEAK_DEFINITE)
        return;
    push((size_t)i);
    B[leader].indirect += b->size + b->indirect;
    b->indirect = 0;
    b->state = MW__LEAK_INDIRECT;
}

static void scan_block(size_t i, long leader)
{
    uintptr_t p = B[i].addr, end = p + B[i].size;
    int definite = B[i].state == MW__LEAK_REACHABLE;

    p = (p + 7) & ~(uintptr_t)7;
    for (; p + 8 <= end; p += 8) {
        uintptr_t v = *(const uintptr_t *)p;
        if (v < lo_addr || v >= hi_addr)
            continue;
        if (leader < 0)
            hit(v, definite);
        else
            clique_hit(v, (size_t)leader);
    }
}

static void drain(long leader)
{
    while (top > 0)
        scan_block(stack[--top], leader);
}

static void scan_root(uintptr_t lo, uintptr_t hi)
{
    uintptr_t p = (lo + 7) & ~(uintptr_t)7;

    scanned += hi > lo ? hi - lo : 0;
    for (; p + 8 <= hi; p += 8) {
        uintptr_t v = *(const uintptr_t *)p;
        if (v >= lo_addr && v < hi_addr)
            hit(v, 1);
    }
}

/* Scans [lo, hi) of a large mapping page by page, skipping pages never touched. */
static void scan_root_sparse(uintptr_t lo, uintptr_t hi)
{
    const size_t page = 4096, window = 1024;
    unsigned char vec[1024];
    uintptr_t w;

    if (hi - lo < (64u << 20)) {
        scan_root(lo, hi);
        return;
    }
    for (w = lo & ~(uintptr_t)(page - 1); w < hi; w += window * page) {
        uintptr_t wend = w + window * page < hi ? w + window * page : hi;
        size_t k, pages = (wend - w + page - 1) / page;
        if (mincore((void *)w, wend - w, vec) < 0) {
            scan_root(w < lo ? lo : w, wend);
            continue;
        }
        for (k = 0; k < pages; k++)
            if (vec[k] & 1) {
                uintptr_t a = w + k * page, b = a + page;
                scan_root(a < lo ? lo : a, b > hi ? hi : b);
            }
    }
}

/* ---- roots -------------------------------------------------------------------------------- */
struct excl {
    uintptr_t lo, hi;
};

static struct excl *ex;
static size_t nex, ex_cap;

static void exclude(uintptr_t lo, uintptr_t hi)
{
    if (lo < hi && nex < ex_cap) {
        ex[nex].lo = lo;
        ex[nex].hi = hi;
        nex++;
    }
}

/* Scans [lo, hi) minus every exclusion range. */
static void scan_minus(uintptr_t lo, uintptr_t hi, size_t from)
{
    size_t i;

    for (i = from; i < nex && lo < hi; i++) {
        if (ex[i].hi <= lo || ex[i].lo >= hi)
            continue;
        if (ex[i].lo > lo)
            scan_minus(lo, ex[i].lo, i + 1);
        lo = ex[i].hi > lo ? ex[i].hi : lo;
    }
    if (lo < hi)
        scan_root_sparse(lo, hi);
}

static char *read_maps(size_t *len, size_t *cap)
{
    size_t c = 1u << 20, n = 0;
    char *buf = mw__leak_map(c);
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

    if (!buf || fd < 0) {
        if (fd >= 0)
            close(fd);
        if (buf)
            mw__leak_unmap(buf, c);
        return NULL;
    }
    for (;;) {
        ssize_t r;
        if (n + 4096 > c) {
            char *nb = mw__leak_map(c * 2);
            if (!nb)
                break;
            memcpy(nb, buf, n);
            mw__leak_unmap(buf, c);
            buf = nb;
            c *= 2;
        }
        r = read(fd, buf + n, c - n - 1);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    *cap = c;
    return buf;
}

static uintptr_t hex(const char **s)
{
    uintptr_t v = 0;
    const char *p = *s;

    for (;; p++) {
        if (*p >= '0' && *p <= '9')
            v = v * 16 + (uintptr_t)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            v = v * 16 + (uintptr_t)(*p - 'a' + 10);
        else
            break;
    }
    *s = p;
    return v;
}

static size_t nex_global; /* exclusions valid for every mapping; the rest are per mapping */

static void sort_range(size_t from, size_t to);

/* Adds to the exclusions what the allocator owns inside [lo, hi): glibc's arena heaps (64 MiB
 * aligned, headed by a heap_info whose size field says how much is in use) and the mappings of
 * large blocks (their own mmap'd chunks: the kernel may have merged them with neighbouring
 * memory that is a real root, such as an interpreter's arenas). Returns -1 when tracked blocks
 * remain in memory the allocator was not recognised to own (another allocator's arenas): the
 * caller then skips the whole mapping rather than take freed memory for roots. */
static int allocator_ranges(uintptr_t lo, uintptr_t hi, int anonymous)
{
    const uintptr_t heap_max = 64u << 20, page = 4096;
    uintptr_t a;
    size_t i;

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
    {
        size_t first = 0, n = N;
        while (first < n) {
            size_t mid = first + (n - first) / 2;
            if (B[mid].addr < lo)
                first = mid + 1;
            else
                n = mid;
        }
        for (i = first; i < N && B[i].addr < hi; i++) {
            uintptr_t real = B[i].addr - B[i].off;
            size_t usable;
            if (B[i].size + B[i].off < (64u << 10) || !mw__real.malloc_usable_size)
                continue;
            usable = mw__real.malloc_usable_size((void *)real);
            exclude((real - 16) & ~(page - 1), (real + usable + page - 1) & ~(page - 1));
        }
        sort_range(nex_global, nex);
        /* Any block left outside every exclusion: memory of an allocator we do not know.
         * Blocks and both exclusion lists (global, this mapping's) are sorted: merge walks. */
        {
            size_t kg = 0, kl = nex_global;
            uintptr_t rg = 0, rl = 0; /* highest end among exclusions starting at or below */
            for (i = first; i < N && B[i].addr < hi; i++) {
                while (kg < nex_global && ex[kg].lo <= B[i].addr) {
                    rg = ex[kg].hi > rg ? ex[kg].hi : rg;
                    kg++;
                }
                while (kl < nex && ex[kl].lo <= B[i].addr) {
                    rl = ex[kl].hi > rl ? ex[kl].hi : rl;
                    kl++;
                }
                if (B[i].addr >= rg && B[i].addr >= rl)
                    return -1;
            }
        }
    }
    return 0;
}

struct live {
    uintptr_t sp;
    int self;
};

/* The process's mappings, parsed once: roots come from them, and the multiple-inheritance
 * heuristic asks whether an address is in a file mapping (readable, or executable). */
struct map {
    uintptr_t lo, hi;
    char perms[5];
    const char *path; /* NUL-terminated, "" for anonymous memory */
};
static struct map *maps;
static size_t nmaps;

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

static int parse_maps(char *text, size_t maps_cap_bytes)
{
    char *p = text;

    maps = mw__leak_map(maps_cap_bytes);
    if (!maps)
        return -1;
    nmaps = 0;
    while (*p && (nmaps + 1) * sizeof(struct map) <= maps_cap_bytes) {
        struct map *m = &maps[nmaps];
        const char *cp = p;
        int k;

        m->lo = hex(&cp);
        if (*cp == '-')
            cp++;
        m->hi = hex(&cp);
        p = (char *)cp;
        while (*p == ' ')
            p++;
        for (k = 0; k < 4 && *p && *p != ' '; k++)
            m->perms[k] = *p++;
        m->perms[k] = '\0';
        for (k = 0; k < 3 && *p && *p != '\n'; k++) { /* offset, device, inode */
            while (*p == ' ')
                p++;
            while (*p && *p != ' ' && *p != '\n')
                p++;
        }
        while (*p == ' ')
            p++;
        m->path = p;
        while (*p && *p != '\n')
            p++;
        if (*p == '\n')
            *p++ = '\0';
        nmaps++;
    }
    return 0;
}

/* memcheck's test for a vtable: inside a readable file mapping, and among its first 20 words
 * two non-null ones point into executable file mappings before any word points elsewhere. */
static int is_vtable(uintptr_t a)
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

/* memcheck's interior-pointer heuristics (all on by default): an interior pointer that matches
 * one makes the block reachable. Returns the heuristic (1-4) or 0. */
static unsigned heuristic(uintptr_t v, const struct cb *b)
{
    const uintptr_t *w = (const uintptr_t *)b->addr;
    uint64_t size = b->size;

    /* stdstring: length, capacity, refcount, then the characters v points at */
    if (v == b->addr + 24 && size >= 16 && 24 + w[1] + 1 == size && w[0] <= w[1])
        return MW__HEUR_STDSTRING;
    /* length64: a 64-bit count of the bytes that follow it */
    if (v == b->addr + 8 && size >= 8 && w[0] > 0 && size - 8 == w[0])
        return MW__HEUR_LENGTH64;
    /* newarray: new[] of objects with destructors stores the element count first */
    if (v == b->addr + 8 && size >= 8 && w[0] > 0 && (size - 8) % w[0] == 0)
        return MW__HEUR_NEWARRAY;
    /* multipleinheritance: v points at a secondary vtable pointer, the block starts with one */
    if (!(v & 7) && size >= 8 && v + 8 <= b->addr + size) {
        uintptr_t inner = *(const uintptr_t *)v, first = w[0];
        if (!(inner & 7) && inner >= 4096 && !(first & 7) && first >= 4096 && is_vtable(inner) &&
            is_vtable(first))
            return MW__HEUR_MULTIPLE;
    }
    return 0;
}

static void scan_maps(const struct mw__check_in *in)
{
    size_t m;

    for (m = 0; m < nmaps; m++) {
        uintptr_t lo = maps[m].lo, hi = maps[m].hi, start;
        const char *perms = maps[m].perms, *path = maps[m].path;
        size_t i;

        if (perms[0] != 'r' || perms[1] != 'w')
            continue;
        if (*path == '/' && strncmp(path, "/dev/", 5) == 0 && strncmp(path, "/dev/zero", 9) != 0)
            continue;
        if (strncmp(path, "[heap]", 6) == 0 || strncmp(path, "[vvar]", 6) == 0)
            continue;
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
        if (allocator_ranges(lo, hi, *path == '\0' || *path == '[') < 0) {
            nex = nex_global;
            continue;
        }
        scan_minus(start, hi, 0);
        nex = nex_global;
    }
}

static void sift_excl(struct excl *a, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        struct excl t;
        if (c >= n)
            return;
        if (c + 1 < n && a[c + 1].lo > a[c].lo)
            c++;
        if (a[i].lo >= a[c].lo)
            return;
        t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

/* Sorts ex[from, to) by start (heapsort: the global list may hold thousands). */
static void sort_range(size_t from, size_t to)
{
    struct excl *a = ex + from;
    size_t n = to - from, i;

    for (i = n / 2; i-- > 0;)
        sift_excl(a, i, n);
    for (i = n; i-- > 1;) {
        struct excl t = a[0];
        a[0] = a[i];
        a[i] = t;
        sift_excl(a, 0, i);
    }
}

int mw__check_run(const struct mw__check_in *in, struct mw__check_out *out)
{
    size_t n = mw__blocks_count() + 64, i, got, nrec = 0;
    mw__block_t *snap;
    uint32_t *order, ntr = mw__traces_count();
    mw__leak_lossrec_t *acc;
    size_t snap_len, acc_len, ex_len = 65536 * sizeof(struct excl);
    static uintptr_t olo[16400], ohi[16400], dlo[4096], dhi[4096];
    size_t nown, ndead;

    memset(out, 0, sizeof *out);
    snap_len = n * sizeof(mw__block_t);
    snap = mw__leak_map(snap_len);
    B = mw__leak_map(n * sizeof(struct cb));
    stack_cap = 2 * n + 16;
    stack = mw__leak_map(stack_cap * sizeof(uint32_t));
    order = mw__leak_map(n * sizeof(uint32_t));
    acc_len = (size_t)ntr * 4 * sizeof(mw__leak_lossrec_t);
    acc = mw__leak_map(acc_len ? acc_len : 4096);
    ex = mw__leak_map(ex_len);
    ex_cap = 65536;
    if (!snap || !B || !stack || !order || !acc || !ex)
        return -1;
    got = mw__blocks_snapshot(snap, n);
    if (got > n)
        got = n;
    N = got;
    for (i = 0; i < N; i++) {
        B[i].addr = snap[i].addr;
        B[i].size = snap[i].size;
        B[i].seq = snap[i].seq;
        B[i].trace = snap[i].trace;
        B[i].off = snap[i].flags;
        B[i].heur = 0;
        B[i].indirect = 0;
        B[i].state = MW__LEAK_DEFINITE;
    }
    sort_blocks(B, N);
    lo_addr = N ? B[0].addr : 1;
    hi_addr = 0;
    for (i = 0; i < N; i++) {
        uintptr_t end = B[i].addr + (B[i].size ? B[i].size : 1);
        if (end > hi_addr)
            hi_addr = end;
    }

    /* Exclusions: our own memory, and the stacks of exited threads no live thread reuses. */
    nex = 0;
    nown = mw__leak_own_ranges(olo, ohi, 16400);
    for (i = 0; i < nown; i++)
        exclude(olo[i], ohi[i]);
    ndead = mw__world_dead_stacks(dlo, dhi, 4096);
    for (i = 0; i < ndead; i++) {
        size_t t;
        int live = in->self_sp >= dlo[i] && in->self_sp < dhi[i];
        for (t = 0; t < in->nthreads && !live; t++)
            live = in->threads[t].sp >= dlo[i] && in->threads[t].sp < dhi[i];
        if (!live)
            exclude(dlo[i], dhi[i]);
    }
    sort_range(0, nex);
    nex_global = nex;

    /* Roots: registers, then memory. */
    scanned = 0;
    for (i = 0; i < in->self_nregs; i++)
        hit(in->self_regs[i], 1);
    for (i = 0; i < in->nthreads; i++) {
        unsigned r;
        for (r = 0; r < in->threads[i].nregs; r++)
            hit(in->threads[i].regs[r], 1);
    }
    {
        size_t len, cap;
        char *text = read_maps(&len, &cap);
        if (text && parse_maps(text, (len / 20 + 16) * sizeof(struct map)) == 0)
            scan_maps(in);
        /* text and maps stay mapped: the process is about to end */
    }
    drain(-1);

    /* Cliques, in allocation order. */
    for (i = 0; i < N; i++)
        order[i] = (uint32_t)i;
    sort_by_seq(order, N);
    for (i = 0; i < N; i++) {
        size_t b = order[i];
        if (B[b].state != MW__LEAK_DEFINITE)
            continue;
        push(b);
        drain((long)b);
    }

    /* Loss records: one per (trace, kind). */
    for (i = 0; i < N; i++) {
        mw__leak_lossrec_t *r;
        uint32_t t = B[i].trace < ntr ? B[i].trace : 0;
        r = &acc[(size_t)t * 4 + B[i].state];
        r->trace = t;
        r->kind = B[i].state;
        r->blocks++;
        r->bytes += B[i].size;
        if (B[i].state == MW__LEAK_DEFINITE)
            r->indirect += B[i].indirect;
        if (B[i].state == MW__LEAK_REACHABLE && B[i].heur) {
            out->heur_bytes[B[i].heur - 1] += B[i].size;
            out->heur_blocks[B[i].heur - 1]++;
        }
    }
    for (i = 0; i < (size_t)ntr * 4; i++)
        if (acc[i].blocks)
            acc[nrec++] = acc[i];
    out->recs = acc;
    out->nrecs = nrec;
    out->recs_map_len = acc_len;
    out->scan_bytes = scanned;
    return 0;
}
