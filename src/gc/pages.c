/* The page allocator: normal chunks cut into runs of 4 KiB pages, free runs kept in size buckets
 * and coalesced with their neighbours, idle runs given back to the OS; huge objects' mappings. */
#include "gc/gc_internal.h"

#include <string.h>

static void freed_trim(void);

static unsigned bucket_of(unsigned npages)
{
    if (npages < 32)
        return npages;
    return 32 + (unsigned)(31 - __builtin_clz(npages)) - 5;
}

static struct mw__gc_run *run_at(uint32_t i)
{
    return &MW__GC_VEC_AT(&mw__gc.runs, struct mw__gc_run, i);
}

static uint32_t run_new(void)
{
    uint32_t i = mw__gc.run_free;

    if (i) {
        mw__gc.run_free = run_at(i)->next;
        return i;
    }
    if (mw__gc.runs.len == 0)
        mw__gc.runs.len = 1; /* record 0 means "none" */
    if (mw__gc_vec_reserve(&mw__gc.runs, sizeof(struct mw__gc_run), mw__gc.runs.len + 1) < 0)
        return 0;
    return (uint32_t)mw__gc.runs.len++;
}

static void run_delete(uint32_t i)
{
    struct mw__gc_run *r = run_at(i);
    r->chunk = NULL;
    r->next = mw__gc.run_free;
    mw__gc.run_free = i;
}

static void bucket_insert(uint32_t i)
{
    struct mw__gc_run *r = run_at(i);
    unsigned b = bucket_of(r->npages);

    r->prev = 0;
    r->next = mw__gc.bucket[b];
    if (r->next)
        run_at(r->next)->prev = i;
    mw__gc.bucket[b] = i;
}

static void bucket_remove(uint32_t i)
{
    struct mw__gc_run *r = run_at(i);

    if (r->prev)
        run_at(r->prev)->next = r->next;
    else
        mw__gc.bucket[bucket_of(r->npages)] = r->next;
    if (r->next)
        run_at(r->next)->prev = r->prev;
}

/* Writes the boundary tags of run i: its first and last page point at the record. */
static void run_tag(uint32_t i)
{
    struct mw__gc_run *r = run_at(i);
    struct mw__gc_pd *pd = r->chunk->pd;
    unsigned last = (unsigned)r->first + r->npages - 1;

    pd[r->first].kind = MW__GC_FREE;
    pd[r->first].size = i;
    pd[r->first].head = r->first;
    pd[r->first].npages = r->npages;
    pd[last].kind = MW__GC_FREE;
    pd[last].size = i;
    pd[last].head = r->first;
    pd[last].npages = r->npages;
}

static uint32_t run_make(struct mw__gc_normal *n, unsigned first, unsigned npages, int released,
                         uint64_t since)
{
    uint32_t i = run_new();
    struct mw__gc_run *r;

    if (!i)
        return 0;
    r = run_at(i);
    r->chunk = n;
    r->first = (uint16_t)first;
    r->npages = (uint16_t)npages;
    r->released = (uint32_t)released;
    r->since = since;
    run_tag(i);
    bucket_insert(i);
    return i;
}

static struct mw__gc_normal *chunk_new(void)
{
    struct mw__gc_normal *n;
    unsigned i, data = (unsigned)(MW__GC_CHUNK_PAGES - MW__GC_HDR_PAGES);

    if (mw__gc.opt.max_heap &&
        (mw__gc.mapped_pages + MW__GC_CHUNK_PAGES) * MW__GC_PAGE + mw__gc.huge_bytes >
            mw__gc.opt.max_heap)
        return NULL;
    n = mw__gc_os_map(MW__GC_CHUNK, MW__GC_CHUNK);
    if (!n)
        return NULL;
    if (mw__gc_table_set((uintptr_t)n, MW__GC_CHUNK, (uintptr_t)n) < 0) {
        mw__gc_os_unmap(n, MW__GC_CHUNK);
        return NULL;
    }
    mw__gc_os_label(n, MW__GC_CHUNK);
    n->c.kind = MW__GC_NORMAL;
    n->c.first_page = (uint32_t)MW__GC_HDR_PAGES;
    n->c.map_size = MW__GC_CHUNK;
    for (i = 0; i < MW__GC_HDR_PAGES; i++)
        n->pd[i].kind = MW__GC_HDR;
    for (; i < MW__GC_CHUNK_PAGES; i++)
        n->pd[i].flags = MW__GC_ZEROED;
    if (!run_make(n, (unsigned)MW__GC_HDR_PAGES, data, 1, mw__gc.gc_count)) {
        mw__gc_table_clear((uintptr_t)n, MW__GC_CHUNK);
        mw__gc_os_unmap(n, MW__GC_CHUNK);
        return NULL;
    }
    n->c.next = mw__gc.chunks;
    if (mw__gc.chunks)
        mw__gc.chunks->prev = &n->c;
    mw__gc.chunks = &n->c;
    mw__gc.mapped_pages += MW__GC_CHUNK_PAGES;
    mw__gc.clean_free_pages += data;
    MW__GC_NOACCESS(mw__gc_block_addr(n, (unsigned)MW__GC_HDR_PAGES),
                    (size_t)data << MW__GC_PAGE_SHIFT);
    return n;
}

static void chunk_unlink(struct mw__gc_chunk *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        mw__gc.chunks = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

/* Takes pages [start, start + npages) out of free run i; what is left before and after them stays
 * free (record i is reused for one of the pieces). */
static uintptr_t run_take(uint32_t i, unsigned start, unsigned npages, int *zeroed)
{
    struct mw__gc_run *r = run_at(i);
    struct mw__gc_normal *n = r->chunk;
    unsigned first = r->first, end = first + r->npages, p, clean = 0;
    uint32_t released = r->released;
    uint64_t since = r->since;

    bucket_remove(i);
    if (start > first) {
        r->npages = (uint16_t)(start - first);
        run_tag(i);
        bucket_insert(i);
        i = 0;
    }
    if (start + npages < end) {
        if (i) {
            r->first = (uint16_t)(start + npages);
            r->npages = (uint16_t)(end - start - npages);
            run_tag(i);
            bucket_insert(i);
        } else if (!run_make(n, start + npages, end - start - npages, (int)released, since)) {
            mw__gc_fatal("out of memory for the page allocator's records");
        }
    } else if (i) {
        run_delete(i);
    }
    for (p = start; p < start + npages; p++)
        if (n->pd[p].flags & MW__GC_ZEROED)
            clean++;
    mw__gc.clean_free_pages -= clean;
    *zeroed = clean == npages;
    MW__GC_ACCESSIBLE(mw__gc_block_addr(n, start), (size_t)npages << MW__GC_PAGE_SHIFT);
    return mw__gc_block_addr(n, start);
}

/* Whether the last collection met a candidate pointer into page p of n while it was free. */
static inline int black_listed(const struct mw__gc_normal *n, unsigned p)
{
    return n->bl[p] == mw__gc_bl_epoch(mw__gc.gc_count);
}

/* The first page of a window of npages pages in run r whose first check pages are not
 * black-listed, or -1. */
static int clean_window(const struct mw__gc_run *r, unsigned npages, unsigned check)
{
    const struct mw__gc_normal *n = r->chunk;
    unsigned p, end = (unsigned)r->first + r->npages, clean = 0;

    if (!check)
        return r->first;
    for (p = r->first; p < end; p++) {
        if (black_listed(n, p)) {
            clean = 0;
            continue;
        }
        if (++clean == check)
            return p + 1 - check + npages <= end ? (int)(p + 1 - check) : -1;
    }
    return -1;
}

/* The first fit among the free runs (smallest bucket first, the most recently freed run first
 * within a bucket) for npages pages whose first check pages are not black-listed: among runs with
 * resident pages first, so that memory already paid for is reused before fresh pages are touched
 * and pages given back stay given back. Returns the run's record (its page in *start), or 0. */
static uint32_t find_fit(unsigned npages, unsigned check, unsigned *start)
{
    unsigned b, pass;
    uint32_t i;
    int s;

    for (pass = 0; pass < 2; pass++)
        for (b = bucket_of(npages); b < MW__GC_BUCKETS; b++)
            for (i = mw__gc.bucket[b]; i; i = run_at(i)->next)
                if (run_at(i)->npages >= npages && (pass || !run_at(i)->released) &&
                    (s = clean_window(run_at(i), npages, check)) >= 0) {
                    *start = (unsigned)s;
                    return i;
                }
    return 0;
}

uintptr_t mw__gc_pages_alloc(unsigned npages, unsigned check, int *zeroed)
{
    unsigned start;
    uint32_t i = find_fit(npages, check, &start), any;

    if (i)
        return run_take(i, start, npages, zeroed);
    any = check ? find_fit(npages, 0, &start) : 0;
    if (any) {
        /* Only black-listed pages fit: take a new chunk instead, as long as the chunks taken for
         * that reason since the last collection stay within what this cycle may allocate (the
         * black-listed pages go back to the OS like any idle free page; a heap limit is never
         * passed for them). */
        if (mw__gc.bl_grown + MW__GC_CHUNK <= mw__gc.threshold + MW__GC_CHUNK && chunk_new()) {
            mw__gc.bl_grown += MW__GC_CHUNK;
            if ((i = find_fit(npages, check, &start)) != 0)
                return run_take(i, start, npages, zeroed);
        }
        any = find_fit(npages, 0, &start);
        return run_take(any, start, npages, zeroed);
    }
    if (!chunk_new())
        return 0;
    i = find_fit(npages, check, &start);
    if (!i)
        i = find_fit(npages, 0, &start);
    return i ? run_take(i, start, npages, zeroed) : 0;
}

void mw__gc_pages_free(struct mw__gc_normal *n, unsigned first, unsigned npages)
{
    unsigned p, end = first + npages;
    uint32_t l, r, now = (uint32_t)mw__gc.gc_count;
    uint64_t since = mw__gc.gc_count;

    for (p = first; p < end; p++) {
        n->pd[p].kind = MW__GC_FREE;
        n->pd[p].flags = 0;
        n->pd[p].recip = now; /* when the page became free: see mw__gc_pages_trim */
    }
    MW__GC_NOACCESS(mw__gc_block_addr(n, first), (size_t)npages << MW__GC_PAGE_SHIFT);
    if (first > n->c.first_page && n->pd[first - 1].kind == MW__GC_FREE) {
        l = n->pd[first - 1].size;
        first = run_at(l)->first;
        if (!run_at(l)->released)
            since = MW__GC_MIN(since, run_at(l)->since);
        bucket_remove(l);
        run_delete(l);
    }
    if (end < MW__GC_CHUNK_PAGES && n->pd[end].kind == MW__GC_FREE) {
        r = n->pd[end].size;
        end = (unsigned)run_at(r)->first + run_at(r)->npages;
        if (!run_at(r)->released)
            since = MW__GC_MIN(since, run_at(r)->since);
        bucket_remove(r);
        run_delete(r);
    }
    if (!run_make(n, first, end - first, 0, since))
        mw__gc_fatal("out of memory for the page allocator's records");
}

/* Unmaps the chunk whose only (free, released) run is record i. */
static void chunk_unmap(size_t i)
{
    struct mw__gc_normal *n = run_at((uint32_t)i)->chunk;
    unsigned data = (unsigned)(MW__GC_CHUNK_PAGES - MW__GC_HDR_PAGES);

    bucket_remove((uint32_t)i);
    run_delete((uint32_t)i);
    mw__gc_table_clear((uintptr_t)n, MW__GC_CHUNK);
    chunk_unlink(&n->c);
    mw__gc.mapped_pages -= MW__GC_CHUNK_PAGES;
    mw__gc.clean_free_pages -= data;
    MW__GC_ACCESSIBLE(n, MW__GC_CHUNK);
    mw__gc_os_unmap(n, MW__GC_CHUNK);
}

/* Whether the last collection met a candidate pointer into one of the free pages of n. */
static int chunk_black_listed(const struct mw__gc_normal *n)
{
    unsigned p;

    for (p = n->c.first_page; p < MW__GC_CHUNK_PAGES; p++)
        if (black_listed(n, p))
            return 1;
    return 0;
}

/* Gives back to the OS every free page that stayed free for unmap_after collections, page by
 * page: a run keeps the oldest time one of its resident pages became free (since), and each
 * resident free page its own (pd.recip), so pages freed next to an old run do not keep it. */
void mw__gc_pages_trim(void)
{
    size_t i;
    unsigned data = (unsigned)(MW__GC_CHUNK_PAGES - MW__GC_HDR_PAGES);
    uint32_t now = (uint32_t)mw__gc.gc_count, after = (uint32_t)mw__gc.opt.unmap_after;

    freed_trim();
    for (i = 1; i < mw__gc.runs.len; i++) {
        struct mw__gc_run *r = run_at((uint32_t)i);
        struct mw__gc_normal *n = r->chunk;
        unsigned p, q, end;
        uint32_t oldest = now;
        int dirty = 0;

        if (!n || mw__gc.gc_count - r->since < mw__gc.opt.unmap_after)
            continue;
        if (r->released) {
            /* Nothing resident: a whole chunk of it may go, once nothing points into it. */
            if (r->npages == data && !chunk_black_listed(n))
                chunk_unmap(i);
            continue;
        }
        end = (unsigned)r->first + r->npages;
        for (p = r->first; p < end; p = q) {
            if ((n->pd[p].flags & MW__GC_ZEROED) || now - n->pd[p].recip < after) {
                if (!(n->pd[p].flags & MW__GC_ZEROED)) {
                    dirty = 1;
                    if (now - n->pd[p].recip > now - oldest)
                        oldest = n->pd[p].recip;
                }
                q = p + 1;
                continue;
            }
            for (q = p;
                 q < end && !(n->pd[q].flags & MW__GC_ZEROED) && now - n->pd[q].recip >= after; q++)
                n->pd[q].flags |= MW__GC_ZEROED;
            MW__GC_ACCESSIBLE(mw__gc_block_addr(n, p), (size_t)(q - p) << MW__GC_PAGE_SHIFT);
            mw__gc_os_release((void *)mw__gc_block_addr(n, p), (size_t)(q - p)
                                                                   << MW__GC_PAGE_SHIFT);
            MW__GC_NOACCESS(mw__gc_block_addr(n, p), (size_t)(q - p) << MW__GC_PAGE_SHIFT);
            mw__gc.clean_free_pages += q - p;
            mw__gc.stats.released_bytes += (uint64_t)(q - p) << MW__GC_PAGE_SHIFT;
        }
        if (dirty) {
            r->since = mw__gc.gc_count - (now - oldest);
            continue;
        }
        r->released = 1;
        /* The whole chunk is free and given back: unmap it (unless stale pointers point into it:
         * then it stays, so that nothing new is put where they point). */
        if (r->npages == data && !chunk_black_listed(n))
            chunk_unmap(i);
    }
}

/* ---- huge objects ------------------------------------------------------------------------- */

/* A freed huge mapping keeps its place in the chunk table, so that the mark loop sees candidate
 * pointers into it (mw__gc_huge_hit): while some remain, its address range stays reserved and no
 * new object is put where they point. Until then it is one of
 *   - a spare: up to SPARE_ONE bytes (SPARE_ALL in all), its memory kept for the next huge object
 *     of about its size for up to unmap_after collections (a program that frees or reallocs
 *     buffers of a few MiB would otherwise fault every page of each one in afresh), not reused
 *     while the last collection met a pointer into it;
 *   - a tomb (MW__GC_TOMB): its memory given back at once, only its header page and its address
 *     range kept, until a collection finds no pointer into it. */
#define SPARE_ONE ((size_t)32 << 20)
#define SPARE_ALL ((uint64_t)64 << 20)

static void huge_link(struct mw__gc_chunk *c, struct mw__gc_chunk **list)
{
    c->prev = NULL;
    c->next = *list;
    if (*list)
        (*list)->prev = c;
    *list = c;
}

static void huge_unlink(struct mw__gc_chunk *c, struct mw__gc_chunk **list)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        *list = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

/* Unmaps a freed mapping for good. */
static void freed_unmap(struct mw__gc_chunk *c)
{
    size_t held = c->flags & MW__GC_TOMB ? MW__GC_PAGE : c->map_size;

    huge_unlink(c, &mw__gc.freed);
    if (!(c->flags & MW__GC_TOMB)) {
        mw__gc.spare_bytes -= c->map_size;
        mw__gc.stats.released_bytes += c->obj_size;
    }
    mw__gc.huge_bytes -= held;
    mw__gc_table_clear((uintptr_t)c, c->map_size);
    MW__GC_ACCESSIBLE(c, c->map_size);
    mw__gc_os_unmap(c, c->map_size);
}

/* Gives a spare's memory back but keeps its range reserved (it becomes a tomb). */
static void freed_bury(struct mw__gc_chunk *c)
{
    mw__gc.spare_bytes -= c->map_size;
    mw__gc.huge_bytes -= c->obj_size;
    mw__gc.stats.released_bytes += c->obj_size;
    c->flags |= MW__GC_TOMB;
    MW__GC_ACCESSIBLE(c->obj, c->obj_size);
    mw__gc_os_reserve((void *)c->obj, c->obj_size);
}

/* The smallest spare of at least total bytes that wastes at most a quarter of it and that no
 * candidate pointer met in the last collection. */
static struct mw__gc_chunk *spare_take(size_t total)
{
    struct mw__gc_chunk *c, *best = NULL;

    for (c = mw__gc.freed; c; c = c->next)
        if (!(c->flags & MW__GC_TOMB) && c->map_size >= total && c->map_size - total <= total / 4 &&
            c->bl != mw__gc_bl_epoch(mw__gc.gc_count) && (!best || c->map_size < best->map_size))
            best = c;
    if (best) {
        huge_unlink(best, &mw__gc.freed);
        mw__gc.spare_bytes -= best->map_size;
        MW__GC_ACCESSIBLE(best, best->map_size);
    }
    return best;
}

uintptr_t mw__gc_huge_map(size_t size, int atomic, int off_page)
{
    size_t body = (size + MW__GC_PAGE - 1) & ~(MW__GC_PAGE - 1), total = body + MW__GC_PAGE;
    struct mw__gc_chunk *c;

    if (body < size || total < body)
        return 0;
    c = spare_take(total);
    if (c) {
        total = c->map_size;
        body = total - MW__GC_PAGE;
        if (!atomic)
            memset((void *)((uintptr_t)c + MW__GC_PAGE), 0, body);
    } else {
        if (mw__gc.opt.max_heap &&
            mw__gc.mapped_pages * MW__GC_PAGE + mw__gc.huge_bytes + total > mw__gc.opt.max_heap)
            return 0;
        c = mw__gc_os_map(total, MW__GC_CHUNK);
        if (!c)
            return 0;
        if (mw__gc_table_set((uintptr_t)c, total, (uintptr_t)c | MW__GC_ENTRY_HUGE) < 0) {
            mw__gc_os_unmap(c, total);
            return 0;
        }
        mw__gc_os_label(c, total);
        mw__gc.huge_bytes += total;
    }
    c->kind = MW__GC_HUGE;
    c->map_size = total;
    c->obj = (uintptr_t)c + MW__GC_PAGE;
    c->obj_size = body;
    c->flags = (atomic ? MW__GC_ATOMIC : 0) | (off_page ? MW__GC_OFF_PAGE : 0);
    c->bl = 0;
    c->bits[4] = 0;
    __atomic_store_n(&c->bits[0], 1, __ATOMIC_RELEASE);
    huge_link(c, &mw__gc.chunks);
    return c->obj;
}

void mw__gc_huge_free(struct mw__gc_chunk *c)
{
    huge_unlink(c, &mw__gc.chunks);
    c->bits[0] = 0;
    c->bits[4] = 0;
    c->bl = 0;
    c->since = (uint32_t)mw__gc.gc_count;
    huge_link(c, &mw__gc.freed);
    mw__gc.spare_bytes += c->map_size;
    if (c->map_size > SPARE_ONE + MW__GC_PAGE || mw__gc.spare_bytes > SPARE_ALL)
        freed_bury(c); /* too big to keep: its memory goes back to the OS right away */
    else
        MW__GC_NOACCESS(c->obj, c->obj_size);
}

/* After a collection: a tomb that no candidate pointer met goes; a spare that waited unmap_after
 * collections goes too, or becomes a tomb while pointed into. (A spare pointed into stays, but
 * is not reused until a collection finds no such pointer: see spare_take.) */
static void freed_trim(void)
{
    struct mw__gc_chunk *c, *next;
    uint8_t hit = mw__gc_bl_epoch(mw__gc.gc_count);

    for (c = mw__gc.freed; c; c = next) {
        next = c->next;
        if (c->flags & MW__GC_TOMB) {
            if (c->bl != hit)
                freed_unmap(c);
        } else if ((uint32_t)mw__gc.gc_count - c->since >= mw__gc.opt.unmap_after) {
            if (c->bl == hit)
                freed_bury(c);
            else
                freed_unmap(c);
        }
    }
}

uint64_t mw__gc_heap_bytes(void)
{
    return (mw__gc.mapped_pages - mw__gc.clean_free_pages) * MW__GC_PAGE + mw__gc.huge_bytes;
}

/* Checks the page structures of every normal chunk: blocks and free runs tile the data pages,
 * every page of a block carries the block's descriptor, free runs carry their boundary tags and
 * never touch each other (they would have been merged). Returns 0, or aborts with the first
 * inconsistency: a debugging aid (MEMWALK_GC_CHECK=1 runs it after every collection). */
int mw__gc_pages_check(void)
{
    struct mw__gc_chunk *c;

    for (c = mw__gc.chunks; c; c = c->next) {
        struct mw__gc_normal *n = (struct mw__gc_normal *)c;
        unsigned p, q, prev_free = 0;

        if (c->kind != MW__GC_NORMAL)
            continue;
        for (p = c->first_page; p < MW__GC_CHUNK_PAGES; p += n->pd[p].npages) {
            struct mw__gc_pd *pd = &n->pd[p];
            if (pd->npages == 0 || p + pd->npages > MW__GC_CHUNK_PAGES)
                mw__gc_fatal("heap check: chunk %p page %u: bad length %u", (void *)n, p,
                             pd->npages);
            if (pd->kind == MW__GC_FREE) {
                struct mw__gc_run *r;
                unsigned last = p + pd->npages - 1;
                if (prev_free)
                    mw__gc_fatal("heap check: chunk %p page %u: two free runs touch", (void *)n, p);
                if (pd->size == 0 || pd->size >= mw__gc.runs.len)
                    mw__gc_fatal("heap check: chunk %p page %u: bad run record %u", (void *)n, p,
                                 pd->size);
                r = run_at(pd->size);
                if (r->chunk != n || r->first != p || r->npages != pd->npages)
                    mw__gc_fatal("heap check: chunk %p page %u: run record %u disagrees", (void *)n,
                                 p, pd->size);
                if (n->pd[last].kind != MW__GC_FREE || n->pd[last].size != pd->size)
                    mw__gc_fatal("heap check: chunk %p page %u: bad tail tag", (void *)n, p);
                for (q = p; q <= last; q++)
                    if (n->pd[q].kind != MW__GC_FREE)
                        mw__gc_fatal("heap check: chunk %p page %u: used page in a free run",
                                     (void *)n, q);
                prev_free = 1;
                continue;
            }
            prev_free = 0;
            if (pd->kind != MW__GC_SMALL && pd->kind != MW__GC_LARGE)
                mw__gc_fatal("heap check: chunk %p page %u: bad kind %u", (void *)n, p, pd->kind);
            for (q = p; q < p + pd->npages; q++)
                if (n->pd[q].head != p || n->pd[q].kind != pd->kind || n->pd[q].size != pd->size)
                    mw__gc_fatal("heap check: chunk %p page %u (kind %u head %u size %u) not like "
                                 "its block's head %u (kind %u npages %u size %u)",
                                 (void *)n, q, n->pd[q].kind, n->pd[q].head, n->pd[q].size, p,
                                 pd->kind, pd->npages, pd->size);
        }
    }
    return 0;
}
