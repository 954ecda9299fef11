/* Tests for the conservative root finder shared by the collector and the leak tracer. */
#include <criterion/criterion.h>
#include <link.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "scan/scan.h"

static void *data_holder = (void *)0x1234;           /* .data */
static void *bss_holder;                             /* .bss */
static __thread uintptr_t tls_holder = 77;           /* static TLS */
static const char *const relro_table[] = {"a", "b"}; /* .data.rel.ro in a PIE */

struct collect {
    mw__range_t r[512];
    int kind[512];
    size_t n;
};

static void collect_cb(void *ctx, uintptr_t lo, uintptr_t hi, enum mw__root_kind kind,
                       const char *object)
{
    struct collect *c = ctx;
    (void)object;
    if (c->n < 512) {
        c->r[c->n].lo = lo;
        c->r[c->n].hi = hi;
        c->kind[c->n] = kind;
        c->n++;
    }
}

static int covered(const struct collect *c, const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p;
    for (size_t i = 0; i < c->n; i++)
        if (a >= c->r[i].lo && a + len <= c->r[i].hi)
            return 1;
    return 0;
}

Test(scan_roots, data_and_bss_are_roots)
{
    static struct collect c;
    cr_assert_gt(mw__scan_data_roots(collect_cb, &c, NULL, 0), 0);
    cr_assert(covered(&c, &data_holder, sizeof data_holder));
    cr_assert(covered(&c, &bss_holder, sizeof bss_holder));
}

Test(scan_roots, relro_is_cut_out)
{
    static struct collect c;
    mw__scan_data_roots(collect_cb, &c, NULL, 0);
    cr_assert_not(covered(&c, &relro_table[0], sizeof relro_table[0]),
                  "a const pointer table lives in RELRO, read-only after relocation");
}

Test(scan_roots, skip_ranges_are_cut_out)
{
    static struct collect c;
    mw__range_t skip = {(uintptr_t)&bss_holder, (uintptr_t)&bss_holder + sizeof bss_holder};
    mw__scan_data_roots(collect_cb, &c, &skip, 1);
    cr_assert_not(covered(&c, &bss_holder, 1));
    cr_assert(covered(&c, &data_holder, sizeof data_holder));
}

Test(scan_roots, object_ranges_of_own_code)
{
    mw__range_t r[8];
    size_t n = mw__scan_object_ranges((const void *)&mw__scan_object_ranges, r, 8);
    int found = 0;
    cr_assert_gt(n, 0);
    for (size_t i = 0; i < n; i++)
        if ((uintptr_t)&bss_holder >= r[i].lo && (uintptr_t)&bss_holder < r[i].hi)
            found = 1;
    cr_assert(found, "the test binary's own writable segment holds its bss");
    cr_assert_eq(mw__scan_object_ranges((void *)16, r, 8), 0);
}

Test(scan_roots, tls_block_of_this_thread)
{
    static struct collect c;
    tls_holder++;
    cr_assert_gt(mw__scan_tls_roots(collect_cb, &c), 0);
    cr_assert(covered(&c, &tls_holder, sizeof tls_holder));
}

Test(scan_roots, main_stack_bounds_hold_a_local)
{
    int local = 1;
    uintptr_t lo, hi;
    cr_assert_eq(mw__scan_thread_stack_bounds(&lo, &hi), 0);
    cr_assert((uintptr_t)&local > lo && (uintptr_t)&local < hi);
    cr_assert_eq(hi, mw__scan_main_stack_base());
}

static void *thread_bounds(void *arg)
{
    int local = 1;
    uintptr_t lo, hi;
    (void)arg;
    if (mw__scan_thread_stack_bounds(&lo, &hi) != 0)
        return (void *)1;
    return (void *)(uintptr_t) !((uintptr_t)&local > lo && (uintptr_t)&local < hi);
}

Test(scan_roots, thread_stack_bounds_hold_a_local)
{
    pthread_t t;
    void *ret;
    cr_assert_eq(pthread_create(&t, NULL, thread_bounds, NULL), 0);
    pthread_join(t, &ret);
    cr_assert_null(ret);
}

Test(scan_roots, stack_ranges_inside_the_stack_is_sp_to_base)
{
    int local = 1;
    uintptr_t lo, hi, sp = (uintptr_t)&local;
    mw__range_t r[2];
    cr_assert_eq(mw__scan_thread_stack_bounds(&lo, &hi), 0);
    cr_assert_eq(mw__scan_stack_ranges(sp, &lo, hi, r), 1);
    cr_assert(r[0].lo == sp && r[0].hi == hi);
}

Test(scan_roots, stack_ranges_follow_a_main_stack_that_grew)
{
    int local = 1;
    uintptr_t lo, hi, sp = (uintptr_t)&local;
    mw__range_t r[2];
    cr_assert_eq(mw__scan_thread_stack_bounds(&lo, &hi), 0);
    /* As if the bounds had been taken when the stack was not as deep as now. */
    lo = sp + 64;
    cr_assert_lt(lo, hi);
    cr_assert_eq(mw__scan_stack_ranges(sp, &lo, hi, r), 1);
    cr_assert(r[0].lo == sp && r[0].hi == hi);
    cr_assert_leq(lo, sp, "the bound was lowered to the mapping's start");
}

Test(scan_roots, stack_ranges_on_a_stack_of_its_own_cover_both_stacks)
{
    size_t len = 64 << 10;
    char *other = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uintptr_t lo, hi, sp;
    mw__range_t r[2];
    cr_assert_neq(other, MAP_FAILED);
    sp = (uintptr_t)other + len / 2;
    cr_assert_eq(mw__scan_thread_stack_bounds(&lo, &hi), 0);
    cr_assert_eq(mw__scan_stack_ranges(sp, &lo, hi, r), 2);
    /* (the kernel may have merged the region with an adjacent anonymous mapping) */
    cr_assert(r[0].lo == sp && r[0].hi >= (uintptr_t)other + len, "sp to its mapping's end");
    cr_assert(r[1].lo <= (uintptr_t)&sp && r[1].hi == hi, "all of the thread's own stack");
    munmap(other, len);
}

Test(scan_roots, stack_ranges_refuse_a_stack_pointer_in_no_mapping)
{
    char *hole = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uintptr_t lo, hi;
    mw__range_t r[2];
    cr_assert_neq(hole, MAP_FAILED);
    munmap(hole, 4096);
    cr_assert_eq(mw__scan_thread_stack_bounds(&lo, &hi), 0);
    cr_assert_eq(mw__scan_stack_ranges((uintptr_t)hole + 64, &lo, hi, r), -EFAULT);
}

struct spill {
    uintptr_t sp;
    uintptr_t needle;
    int found;
};

static void find_needle(void *ctx, uintptr_t value, uintptr_t where)
{
    struct spill *s = ctx;
    (void)where;
    if (value == s->needle)
        s->found = 1;
}

static void spill_cb(void *ctx, uintptr_t sp)
{
    struct spill *s = ctx;
    s->sp = sp;
    mw__scan_words(sp, mw__scan_main_stack_base(), s->needle, s->needle + 1, find_needle, s);
}

Test(scan_roots, spilled_stack_scan_sees_caller_values)
{
    int local;
    struct spill s = {0, 0, 0};
    /* The needle only exists in this frame (in s and in a register): the scan must find it. */
    s.needle = (uintptr_t)&local ^ 0x5a5a5a5a5a5aull;
    mw__scan_with_registers(spill_cb, &s);
    cr_assert(s.sp != 0 && s.sp < (uintptr_t)&local);
    cr_assert(s.found);
}

Test(scan_roots, scan_words_aligns_and_filters)
{
    uintptr_t words[4] = {100, 5000, 200, 7};
    struct spill s = {0, 200, 0};
    mw__scan_words((uintptr_t)words + 1, (uintptr_t)(words + 4), 150, 300, find_needle, &s);
    cr_assert(s.found);
    s.found = 0;
    s.needle = 100; /* word 0 is before the aligned start */
    mw__scan_words((uintptr_t)words + 1, (uintptr_t)(words + 4), 0, 1000, find_needle, &s);
    cr_assert_not(s.found);
}

struct pieces {
    uintptr_t lo[8], hi[8];
    size_t n;
};

static void take_piece(void *ctx, uintptr_t lo, uintptr_t hi)
{
    struct pieces *p = ctx;

    cr_assert_lt(p->n, 8);
    p->lo[p->n] = lo;
    p->hi[p->n] = hi;
    p->n++;
}

/* Range subtraction, with ranges as mw__range_t and as wider records (stride). */
Test(scan_roots, minus_leaves_the_uncovered_pieces_in_order)
{
    const mw__range_t skip[] = {{50, 60}, {100, 120}, {110, 130}, {180, 300}};
    struct {
        uintptr_t lo, hi, extra;
    } wide[] = {{50, 60, 7}, {100, 130, 7}};
    struct pieces p = {0};

    mw__scan_minus(40, 200, skip, 4, sizeof skip[0], take_piece, &p);
    cr_assert_eq(p.n, 3);
    cr_assert(p.lo[0] == 40 && p.hi[0] == 50);
    cr_assert(p.lo[1] == 60 && p.hi[1] == 100);
    cr_assert(p.lo[2] == 130 && p.hi[2] == 180);
    p.n = 0;
    mw__scan_minus(0, 1000, wide, 2, sizeof wide[0], take_piece, &p);
    cr_assert_eq(p.n, 3);
    cr_assert(p.lo[2] == 130 && p.hi[2] == 1000);
    p.n = 0;
    mw__scan_minus(100, 130, wide, 2, sizeof wide[0], take_piece, &p);
    cr_assert_eq(p.n, 0, "a covered range leaves nothing");
    mw__scan_minus(5, 9, NULL, 0, sizeof wide[0], take_piece, &p);
    cr_assert(p.n == 1 && p.lo[0] == 5 && p.hi[0] == 9);
}

struct extent_probe {
    uintptr_t addr;
    unsigned flags;
    int inside;
    uintptr_t lo, hi;
};

static int probe_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct extent_probe *p = arg;

    (void)size;
    if (!mw__scan_load_extent(info, p->flags, p->addr, &p->lo, &p->hi))
        return 0;
    p->inside = 1;
    return 1;
}

static int probe_global = 7;

/* The object holding an address, and the extent of its code or its whole image. */
Test(scan_roots, load_extent_finds_the_object_and_its_code)
{
    struct extent_probe code = {(uintptr_t)probe_cb, PF_X, 0, 0, 0};
    struct extent_probe data = {(uintptr_t)&probe_global, 0, 0, 0, 0};
    struct extent_probe none = {(uintptr_t)&code, 0, 0, 0, 0};

    dl_iterate_phdr(probe_cb, &code);
    cr_assert(code.inside);
    cr_assert(code.lo <= (uintptr_t)probe_cb && (uintptr_t)probe_cb < code.hi);
    cr_assert(!(code.lo <= (uintptr_t)&probe_global && (uintptr_t)&probe_global < code.hi),
              "data is outside the code extent");
    dl_iterate_phdr(probe_cb, &data);
    cr_assert(data.inside);
    cr_assert(data.lo <= (uintptr_t)probe_cb && (uintptr_t)&probe_global < data.hi);
    dl_iterate_phdr(probe_cb, &none);
    cr_assert_not(none.inside, "a stack address is in no object");
}
