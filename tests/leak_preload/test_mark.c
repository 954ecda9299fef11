/* Unit tests of the exit check's block lookup (mark.c): the granule index answers every candidate
 * word as a plain search over all the blocks does, whatever the layout of the blocks. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "leak/check.h"

#define MAXB 3000

/* roots.c reads the process's mappings: the lookup never asks it, so it stays out of the link. */
int mw__roots_is_vtable(uintptr_t a)
{
    (void)a;
    return 0;
}

void mw__roots_scan_written(uintptr_t lo, uintptr_t hi, void (*fn)(uintptr_t, uintptr_t, void *),
                            void *ctx)
{
    fn(lo, hi, ctx);
}

static struct mw__cb blocks[MAXB];

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The answer by definition: the block whose bytes hold v (a 0-byte block holds its address). */
static long brute(uintptr_t v)
{
    size_t i;

    for (i = 0; i < mw__N; i++) {
        const struct mw__cb *b = &blocks[i];
        if ((v >= b->addr && v < b->addr + b->size) || (b->size == 0 && v == b->addr))
            return (long)i;
    }
    return -1;
}

/* Publishes blocks[0..n) (sorted, disjoint) as check.c does, and indexes them. */
static void publish(size_t n)
{
    mw__B = blocks;
    mw__N = n;
    cr_assert_eq(mw__mark_index(), 0);
}

/* Lays out n blocks from base: sizes up to max_size, gaps from gap(). */
static void layout(size_t n, uintptr_t base, uint64_t max_size, uint64_t (*gap)(void))
{
    uintptr_t a = base;
    size_t i;

    for (i = 0; i < n; i++) {
        blocks[i].addr = a;
        blocks[i].size = rnd() % 7 == 0 ? 0 : rnd() % (max_size + 1);
        a += blocks[i].size + 16 + gap();
        a = (a + 15) & ~(uintptr_t)15;
    }
    publish(n);
}

/* Every interesting word: starts, last bytes, ends, interiors, gaps and outside the range. */
static void probe_all(void)
{
    size_t i;
    unsigned r;

    for (i = 0; i < mw__N; i++) {
        uintptr_t a = blocks[i].addr, e = a + blocks[i].size;
        uintptr_t vs[] = {a - 1, a, a + 1, a + 8, e - 1, e, e + 1, e + 4096};
        size_t j;
        for (j = 0; j < sizeof vs / sizeof *vs; j++)
            cr_assert_eq(mw__mark_find(vs[j]), brute(vs[j]), "word %#lx (block %zu)",
                         (unsigned long)vs[j], i);
    }
    for (r = 0; r < 20000; r++) {
        uintptr_t lo = mw__lo_addr - 4096, span = mw__hi_addr - mw__lo_addr + 8192;
        uintptr_t v = lo + rnd() % span;
        cr_assert_eq(mw__mark_find(v), brute(v), "word %#lx", (unsigned long)v);
    }
    cr_assert_eq(mw__mark_find(0), -1);
    cr_assert_eq(mw__mark_find(UINTPTR_MAX), -1);
}

static uint64_t gap_small(void)
{
    return rnd() % 64;
}

static uint64_t gap_mixed(void)
{
    uint64_t r = rnd() % 100;
    return r < 90 ? r : r < 97 ? (2u << 20) + rnd() % (1u << 20) : (1ull << 40) + rnd() % 4096;
}

/* Clusters of tiny blocks half a MiB apart: one segment, large granules with many blocks. */
static uint64_t gap_clustered(void)
{
    return rnd() % 40 == 0 ? (512u << 10) : 0;
}

Test(preload_mark, a_dense_heap_is_found_as_a_full_search_finds_it)
{
    layout(MAXB, 0x555555560000ull, 200, gap_small);
    probe_all();
}

Test(preload_mark, blocks_scattered_over_the_address_space_are_found)
{
    layout(MAXB, 0x10000000ull, 5000, gap_mixed);
    probe_all();
}

Test(preload_mark, crowded_granules_of_a_sparse_segment_are_searched)
{
    layout(MAXB, 0x7f0000000000ull, 48, gap_clustered);
    probe_all();
}

Test(preload_mark, huge_blocks_and_zero_byte_blocks_hold_their_words)
{
    size_t i;

    for (i = 0; i < 8; i++) {
        blocks[i].addr = 0x7f0000000000ull + i * (300ull << 20);
        blocks[i].size = i % 2 ? (256ull << 20) : 0;
    }
    publish(8);
    probe_all();
    cr_assert_eq(mw__mark_find(blocks[1].addr + (200u << 20)), 1);
}

Test(preload_mark, no_blocks_no_hit)
{
    publish(0);
    cr_assert_eq(mw__mark_find(0x1000), -1);
}
