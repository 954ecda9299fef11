/* Built at -O2 (mk/bench.mk): fills memory that nothing reads, once plainly and once followed by
 * mw_bench_keep, and counts the pages the fill really touched through the kernel's page-fault
 * counter. A loop the optimizer deleted touches no page. Prints one line per case:
 *     heap pages=256 kept=256 plain=1
 *     stack pages=64 kept=64 plain=0
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <memwalk/bench.h>

#define HEAP_BYTES  (1024 * 1024)
#define STACK_INTS  (64 * 1024) /* 256 KiB of stack */
#define STACK_BYTES (2 * 1024 * 1024)

static long thread_faults(void)
{
    struct rusage ru;

    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_minflt;
}

/* The classic heap loop: malloc, fill, free, with the fill's result never read. */
__attribute__((noinline)) static void heap_plain(int seed)
{
    int *a = malloc(HEAP_BYTES);
    if (!a)
        return;
    for (size_t j = 0; j < HEAP_BYTES / sizeof *a; j++)
        a[j] = seed + (int)j;
    free(a);
}

__attribute__((noinline)) static void heap_kept(int seed)
{
    int *a = malloc(HEAP_BYTES);
    if (!a)
        return;
    for (size_t j = 0; j < HEAP_BYTES / sizeof *a; j++)
        a[j] = seed + (int)j;
    mw_bench_keep(a);
    free(a);
}

/* The classic stack loop: an array filled and never read. */
__attribute__((noinline)) static int stack_plain(int seed)
{
    int a[STACK_INTS] __attribute__((unused)); /* the point: written, never read */
    for (int j = 0; j < STACK_INTS; j++)
        a[j] = seed + j;
    return seed;
}

__attribute__((noinline)) static int stack_kept(int seed)
{
    int a[STACK_INTS];
    for (int j = 0; j < STACK_INTS; j++)
        a[j] = seed + j;
    mw_bench_keep(a);
    return seed;
}

/* Each stack case runs on a thread whose stack is a fresh mapping, so every page its array
 * touches is a first touch and costs exactly one minor fault. */
static void *stack_case(void *arg)
{
    int kept = *(int *)arg;
    long before = thread_faults();
    int r = kept ? stack_kept(kept) : stack_plain(kept);
    long faults = thread_faults() - before;
    return (void *)(faults + 0 * (long)r);
}

static long run_stack_case(int kept)
{
    pthread_attr_t attr;
    pthread_t t;
    void *stack, *ret = (void *)-1;

    stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return -1;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack, STACK_BYTES);
    if (pthread_create(&t, &attr, stack_case, &kept) == 0)
        pthread_join(t, &ret);
    pthread_attr_destroy(&attr);
    munmap(stack, STACK_BYTES);
    return (long)ret;
}

static long run_heap_case(int kept)
{
    long before = thread_faults();
    if (kept)
        heap_kept(7);
    else
        heap_plain(7);
    return thread_faults() - before;
}

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);

    /* Count 4 KiB faults, not huge pages; map every heap block freshly (a fixed mmap threshold
     * turns off glibc's reuse of freed large blocks). */
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    printf("heap pages=%ld kept=%ld plain=%ld\n", HEAP_BYTES / page, run_heap_case(1),
           run_heap_case(0));
    printf("stack pages=%ld kept=%ld plain=%ld\n", (long)(STACK_INTS * sizeof(int)) / page,
           run_stack_case(1), run_stack_case(0));
    return 0;
}
