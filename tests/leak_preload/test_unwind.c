/* The preload's DWARF unwinder against libunwind's on the same stacks: a chain of functions built
 * without frame pointers (as Debian's code is), then glibc's own frames below main. */
#include <criterion/criterion.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <string.h>

#include "leak/leak.h"
#include "scan/scan.h"

#define DEPTH 24

struct frames {
    uintptr_t ours[DEPTH], theirs[DEPTH + 1];
    unsigned nours, ntheirs;
};

static struct mw__leak_thread self;

/* Takes both stacks from here: ours from this frame's caller on, libunwind's from this frame. */
__attribute__((noinline)) static void capture(struct frames *f)
{
    uintptr_t *fp = __builtin_frame_address(0);
    unw_context_t ctx;
    unw_cursor_t cur;

    self.stack_hi = mw__scan_main_stack_base();
    f->nours = mw__unwind(&self, fp[1], (uintptr_t)(fp + 2), fp[0], f->ours, DEPTH);
    unw_getcontext(&ctx);
    unw_init_local(&cur, &ctx);
    f->ntheirs = 0;
    do {
        unw_word_t ip;
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        f->theirs[f->ntheirs++] = (uintptr_t)ip;
    } while (f->ntheirs < DEPTH + 1 && unw_step(&cur) > 0);
    __asm__ volatile("" : : "r"(f) : "memory");
}

/* Frames of different shapes (the suite is built with -fomit-frame-pointer): a leaf-like one,
 * one with a big frame, a recursive one. */
__attribute__((noinline)) static int level3(struct frames *f, int n)
{
    capture(f);
    return n + 1;
}

__attribute__((noinline)) static int level2(struct frames *f, int n)
{
    volatile char big[4096];

    big[n & 4095] = (char)n;
    return level3(f, n) + big[0];
}

__attribute__((noinline)) static int level1(struct frames *f, int n)
{
    if (n > 0)
        return level1(f, n - 1) + 1;
    return level2(f, n);
}

static void compare(const struct frames *f, unsigned at_least)
{
    unsigned i, n = f->nours < f->ntheirs - 1 ? f->nours : f->ntheirs - 1;

    cr_assert_geq(n, at_least, "ours %u frames, libunwind %u", f->nours, f->ntheirs);
    for (i = 0; i < n; i++)
        cr_assert_eq(f->ours[i], f->theirs[i + 1], "frame %u: ours %#lx, libunwind %#lx", i,
                     (unsigned long)f->ours[i], (unsigned long)f->theirs[i + 1]);
}

Test(preload_unwind, frames_match_libunwind_through_code_without_frame_pointers)
{
    struct frames f;

    memset(&f, 0, sizeof f);
    level1(&f, 5);
    /* level3, level2, level1 x 6, this test, and Criterion's frames below */
    compare(&f, 9);
}

Test(preload_unwind, frames_match_libunwind_from_a_thread)
{
    /* Criterion runs each test in its own process: the main thread's stack is what differs from
     * one test to the next. */
    struct frames f;

    memset(&f, 0, sizeof f);
    level2(&f, 3);
    compare(&f, 3);
}

Test(preload_unwind, a_repeated_stack_gives_the_same_trace)
{
    uintptr_t *fp = __builtin_frame_address(0);
    uint32_t a, b;

    cr_assert_eq(mw__traces_init(), 0);
    self.stack_hi = mw__scan_main_stack_base();
    a = mw__unwind_trace(&self, 0x1234, fp[1], (uintptr_t)(fp + 2), fp[0]);
    b = mw__unwind_trace(&self, 0x1234, fp[1], (uintptr_t)(fp + 2), fp[0]);
    cr_assert_neq(a, 0);
    cr_assert_eq(a, b);
}

__attribute__((noinline)) static uint32_t take_trace(void)
{
    uintptr_t *fp = __builtin_frame_address(0);

    return mw__unwind_trace(&self, 0x1234, fp[1], (uintptr_t)(fp + 2), fp[0]);
}

__attribute__((noinline)) static uint32_t nested(int n)
{
    uint32_t t = n ? nested(n - 1) : take_trace();

    __asm__ volatile("" : : "r"(t) : "memory");
    return t;
}

/* One hook and return address reached along paths that differ only deeper down: each path keeps
 * its own trace however the remembered stacks are replaced, round after round. */
Test(preload_unwind, paths_that_differ_deeper_keep_their_own_traces)
{
    uint32_t first[8];
    int round, k, j;

    cr_assert_eq(mw__traces_init(), 0);
    self.stack_hi = mw__scan_main_stack_base();
    for (round = 0; round < 4; round++)
        for (k = 0; k < 8; k++) {
            uint32_t t = nested(k);
            if (round == 0)
                first[k] = t;
            else
                cr_assert_eq(t, first[k], "round %d, depth %d", round, k);
        }
    for (k = 0; k < 8; k++)
        for (j = 0; j < k; j++)
            cr_assert_neq(first[k], first[j], "depths %d and %d", j, k);
}
