/* The seed's stack-versus-heap measurement, redone with memwalk's harness: a 10,000-int array
 * filled on the stack, on the heap with malloc/free around each fill, and on the heap without
 * free. The barriers keep the fills the optimizer would otherwise delete; without free the
 * blocks are released after each sample, outside the timing, so the program does not leak.
 * Try: build/examples/stack_vs_heap --baseline on_stack */
#include <memwalk/bench.h>
#include <memwalk/show.h>
#include <stdlib.h>

#define INTS 10000

static void fill(int *array, uint64_t round)
{
    for (int j = 0; j < INTS; j++)
        array[j] = (int)round + j;
    mw_bench_keep(array);
}

static void on_stack(uint64_t iters, void *arg)
{
    int array[INTS];

    (void)arg;
    for (uint64_t i = 0; i < iters; i++)
        fill(array, i);
}

static void on_heap(uint64_t iters, void *arg)
{
    (void)arg;
    for (uint64_t i = 0; i < iters; i++) {
        int *array = malloc(sizeof(int) * INTS);
        if (!array)
            abort();
        fill(array, i);
        free(array);
    }
}

/* Without free: the blocks of one sample are kept in a table and released by the teardown. */
static struct {
    int **blocks;
    uint64_t n;
} kept;

static int keep_setup(uint64_t iters, void *arg)
{
    (void)arg;
    kept.blocks = calloc(iters, sizeof *kept.blocks);
    kept.n = 0;
    return kept.blocks ? 0 : -12;
}

static void on_heap_no_free(uint64_t iters, void *arg)
{
    (void)arg;
    for (uint64_t i = 0; i < iters; i++) {
        int *array = malloc(sizeof(int) * INTS);
        if (!array)
            abort();
        fill(array, i);
        kept.blocks[kept.n++] = array;
    }
}

static void keep_teardown(uint64_t iters, void *arg)
{
    (void)iters;
    (void)arg;
    for (uint64_t i = 0; i < kept.n; i++)
        free(kept.blocks[i]);
    free(kept.blocks);
    kept.blocks = NULL;
}

MW_BENCH(on_stack, on_stack);
MW_BENCH(on_heap, on_heap);
/* A fixed 1,000 fills a sample, the seed's run, so fresh memory is what is measured. */
MW_BENCH_SPEC(on_heap_no_free, .fn = on_heap_no_free, .setup = keep_setup,
              .teardown = keep_teardown, .iters = 1000);
int main(int argc, char **argv)
{
    int local = 0;
    int *block = malloc(sizeof(int) * INTS);

    /* Where the two kinds of array live, before timing them. */
    MW_SHOW(local);
    MW_SHOW_PTR("heap array", block);
    free(block);
    return mw_bench_main(argc, argv);
}
