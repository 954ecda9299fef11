/* Unit tests of the preload's block table (blocks.c) and trace table (traces.c), linked from the
 * preload's own objects. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stubs.h"

/* A block as the tracer lays it out: the allocator's pointer, the header room, the block. */
static void *real_block(size_t n)
{
    void *p = aligned_alloc(16, n + MW__HDR + MW__TAIL + 16);

    cr_assert_not_null(p);
    return p;
}

static struct mw__leak_thread *t0;

static void setup(void)
{
    static int once;

    if (!once) {
        cr_assert_eq(mw__blocks_init(), 0);
        cr_assert_eq(mw__traces_init(), 0);
        once = 1;
    }
    t0 = mw__leak_me(); /* the main thread's state: its counters are summed */
}

TestSuite(preload_blocks, .init = setup);
TestSuite(preload_traces, .init = setup);

Test(preload_blocks, an_added_block_is_found_with_its_size_and_offset)
{
    void *real = real_block(100);
    void *p = mw__blocks_add(t0, real, MW__HDR, 100, 7);
    struct mw__blkinfo b;

    cr_assert_eq((char *)p, (char *)real + MW__HDR);
    cr_assert(mw__blocks_lookup(p, &b));
    cr_assert_eq(b.size, 100);
    cr_assert_eq(b.off, MW__HDR);
    cr_assert_eq(b.real, real);
    mw__blocks_release(t0, p, &b);
    free(real);
}

Test(preload_blocks, a_released_block_is_no_longer_ours)
{
    void *real = real_block(40);
    void *p = mw__blocks_add(t0, real, MW__HDR, 40, 1);
    struct mw__blkinfo b;

    cr_assert(mw__blocks_lookup(p, &b));
    mw__blocks_release(t0, p, &b);
    cr_assert_not(mw__blocks_lookup(p, &b), "a second free must pass through");
    free(real);
}

Test(preload_blocks, memory_the_tracer_never_saw_is_not_taken_for_a_block)
{
    char *buf = calloc(1, 256);
    struct mw__blkinfo b;
    size_t i;

    cr_assert_not(mw__blocks_lookup(buf + 32, &b));
    for (i = 0; i < 256; i++)
        buf[i] = (char)(i * 37);
    cr_assert_not(mw__blocks_lookup(buf + 32, &b));
    cr_assert_not(mw__blocks_lookup(buf + 33, &b), "misaligned");
    free(buf);
}

Test(preload_blocks, aligned_blocks_keep_their_offset)
{
    void *real = aligned_alloc(256, 256 + 64 + MW__TAIL);
    void *p = mw__blocks_add(t0, real, 256, 64, 2);
    struct mw__blkinfo b;

    cr_assert(mw__blocks_lookup(p, &b));
    cr_assert_eq(b.off, 256);
    cr_assert_eq((uintptr_t)p % 256, 0);
    mw__blocks_release(t0, p, &b);
    free(real);
}

Test(preload_blocks, snapshot_lists_every_live_block_and_counts_follow_memcheck)
{
    enum { N = 10000 };
    static void *real[N], *p[N];
    mw__block_t *snap;
    size_t i, live0 = mw__blocks_count(), got, found = 0;
    uint64_t a0, f0, b0, a1, f1, b1;
    struct mw__blkinfo b;

    mw__blocks_totals(&a0, &f0, &b0);
    for (i = 0; i < N; i++) {
        real[i] = real_block(24);
        p[i] = mw__blocks_add(t0, real[i], MW__HDR, 24, (uint32_t)(i % 100));
    }
    for (i = 0; i < N; i += 2) {
        cr_assert(mw__blocks_lookup(p[i], &b));
        mw__blocks_release(t0, p[i], &b);
    }
    cr_assert_eq(mw__blocks_count(), live0 + N / 2);
    snap = calloc(live0 + N, sizeof *snap);
    got = mw__blocks_snapshot(snap, live0 + N);
    cr_assert_eq(got, live0 + N / 2);
    for (i = 0; i < got; i++) {
        size_t k;
        for (k = 1; k < N; k += 2)
            if (snap[i].addr == (uintptr_t)p[k]) {
                cr_assert_eq(snap[i].size, 24);
                cr_assert_eq(snap[i].trace, k % 100);
                found++;
                break;
            }
    }
    cr_assert_eq(found, N / 2);
    mw__blocks_totals(&a1, &f1, &b1);
    cr_assert_eq(a1 - a0, N);
    cr_assert_eq(f1 - f0, N / 2);
    cr_assert_eq(b1 - b0, 24u * N);
    for (i = 1; i < N; i += 2) {
        cr_assert(mw__blocks_lookup(p[i], &b));
        mw__blocks_release(t0, p[i], &b);
    }
    for (i = 0; i < N; i++)
        free(real[i]);
    free(snap);
}

Test(preload_blocks, a_moved_block_counts_one_free_and_one_alloc)
{
    void *r1 = real_block(10), *r2 = real_block(500);
    void *p = mw__blocks_add(t0, r1, MW__HDR, 10, 3), *q;
    struct mw__blkinfo b;
    uint64_t a0, f0, b0, a1, f1, b1;

    mw__blocks_totals(&a0, &f0, &b0);
    cr_assert(mw__blocks_lookup(p, &b));
    q = mw__blocks_move(t0, r2, &b, 500, 4);
    mw__blocks_totals(&a1, &f1, &b1);
    cr_assert_eq(a1 - a0, 1);
    cr_assert_eq(f1 - f0, 1);
    cr_assert_eq(b1 - b0, 500);
    cr_assert(mw__blocks_lookup(q, &b));
    cr_assert_eq(b.size, 500);
    mw__blocks_release(t0, q, &b);
    free(r1);
    free(r2);
}

Test(preload_traces, the_same_stack_gets_the_same_id)
{
    uintptr_t a[3] = {0x1000, 0x2000, 0x3000}, b[3] = {0x1000, 0x2000, 0x3000};
    uint32_t x = mw__traces_intern(a, 3), y = mw__traces_intern(b, 3);

    cr_assert_neq(x, 0);
    cr_assert_eq(x, y);
}

Test(preload_traces, different_stacks_and_depths_get_different_ids)
{
    uintptr_t a[3] = {0x1100, 0x2100, 0x3100}, b[3] = {0x1100, 0x2100, 0x3101};

    cr_assert_neq(mw__traces_intern(a, 3), mw__traces_intern(b, 3));
    cr_assert_neq(mw__traces_intern(a, 3), mw__traces_intern(a, 2));
}

Test(preload_traces, ids_give_their_stacks_back_across_table_growth)
{
    enum { N = 50000 };
    static uint32_t id[N];
    uintptr_t ips[4];
    size_t i;

    for (i = 0; i < N; i++) {
        ips[0] = 0x400000 + i;
        ips[1] = 0x500000 + i * 3;
        ips[2] = 0x600000;
        ips[3] = i;
        id[i] = mw__traces_intern(ips, 1 + (unsigned)(i % 4));
        cr_assert_neq(id[i], 0);
    }
    for (i = 0; i < N; i++) {
        unsigned depth;
        const uintptr_t *got = mw__traces_get(id[i], &depth);
        cr_assert_eq(depth, 1 + i % 4);
        cr_assert_eq(got[0], 0x400000 + i);
        if (depth > 1)
            cr_assert_eq(got[1], 0x500000 + i * 3);
    }
    cr_assert_geq(mw__traces_count(), N);
}

Test(preload_traces, id_zero_and_unknown_ids_have_no_stack)
{
    unsigned depth = 9;

    cr_assert_null(mw__traces_get(0, &depth));
    cr_assert_eq(depth, 0);
    cr_assert_null(mw__traces_get(0x7fffffff, &depth));
}
