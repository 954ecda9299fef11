/* The optimizer barriers at work: tests/bench/barrier_prog.c, built at -O2 by mk/bench.mk with
 * the compiler of this build, fills memory that nothing reads, with and without mw_bench_keep,
 * and reports how many pages each fill touched (page faults: a count, not a time). */
#include <criterion/criterion.h>
#include <stdio.h>

#define BARRIER_PROG MW_BUILD_DIR "/tests/bench_barrier"

struct counts {
    long pages, kept, plain;
};

static void run(struct counts *heap, struct counts *stack)
{
    FILE *p = popen(BARRIER_PROG, "r");

    cr_assert_not_null(p, "cannot run %s", BARRIER_PROG);
    cr_assert_eq(
        fscanf(p, "heap pages=%ld kept=%ld plain=%ld\n", &heap->pages, &heap->kept, &heap->plain),
        3);
    cr_assert_eq(fscanf(p, "stack pages=%ld kept=%ld plain=%ld\n", &stack->pages, &stack->kept,
                        &stack->plain),
                 3);
    cr_assert_eq(pclose(p), 0);
}

Test(bench_barrier, keep_makes_the_heap_fill_touch_every_page)
{
    struct counts heap, stack;
    run(&heap, &stack);
    cr_assert_geq(heap.kept, heap.pages, "with mw_bench_keep: %ld faults for %ld pages", heap.kept,
                  heap.pages);
}

Test(bench_barrier, keep_makes_the_stack_fill_touch_every_page)
{
    struct counts heap, stack;
    run(&heap, &stack);
    cr_assert_geq(stack.kept, stack.pages, "with mw_bench_keep: %ld faults for %ld pages",
                  stack.kept, stack.pages);
}

Test(bench_barrier, without_keep_the_optimizer_deletes_the_fills)
{
    struct counts heap, stack;
    run(&heap, &stack);
    /* The lesson of the barrier: at -O2 gcc and clang delete a fill whose result is unread. If a
     * compiler stops doing so this fails, and the documentation of mw_bench_keep needs a look. */
    cr_assert_lt(heap.plain, heap.pages / 4, "heap fill without barrier touched %ld pages",
                 heap.plain);
    cr_assert_lt(stack.plain, stack.pages / 4, "stack fill without barrier touched %ld pages",
                 stack.plain);
}
