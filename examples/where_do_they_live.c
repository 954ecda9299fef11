/* Where do they live? Globals, statics, literals, code, locals, heap blocks and a thread's local,
 * each printed with MW_SHOW and the kind of memory that holds it. */
#include <memwalk/show.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int initialised_global = 42;     /* .data */
int zero_global;                 /* .bss: a small int in the last file-backed page */
static int static_global = 7;    /* .data, file scope */
const char greeting[] = "hello"; /* .rodata */

__attribute__((noinline)) static void inner_frame(int depth)
{
    int local_inner = depth;

    MW_SHOW(local_inner); /* one frame deeper: a lower stack address */
}

__attribute__((noinline)) static void outer_frame(void)
{
    int local_outer = 1;

    MW_SHOW(local_outer);
    inner_frame(2);
}

static void *thread_main(void *arg)
{
    int thread_local_var = 3;

    (void)arg;
    MW_SHOW(thread_local_var); /* on the thread's own stack, not [stack] */
    return NULL;
}

int main(void)
{
    static int static_local = 9; /* .data, although declared in a function */
    static int static_zero;      /* .bss */
    const char *literal = "a string literal";
    char *small = malloc(32);       /* the brk heap */
    char *large = malloc(16 << 20); /* over the mmap threshold: anonymous memory */
    pthread_t t;

    puts("-- globals and statics");
    MW_SHOW(initialised_global);
    MW_SHOW(zero_global);
    MW_SHOW(static_global);
    MW_SHOW(static_local);
    MW_SHOW(static_zero);
    puts("-- read-only data and code");
    MW_SHOW(greeting);
    MW_SHOW_PTR("literal", literal);
    MW_SHOW_PTR("main", (void *)main);
    MW_SHOW_PTR("printf", (void *)printf);
    puts("-- locals: nested frames and blocks");
    outer_frame();
    {
        int a = 12;
        int b = 24;
        MW_SHOW(a);
        MW_SHOW(b);
        MW_DIFF(a, b);
    }
    {
        int x = 21; /* the same slots again once the first block has ended */
        MW_SHOW(x);
    }
    puts("-- heap");
    MW_SHOW_PTR("small malloc(32)", small);
    MW_SHOW_PTR("large malloc(16 MiB)", large);
    puts("-- a thread");
    if (pthread_create(&t, NULL, thread_main, NULL) == 0)
        pthread_join(t, NULL);
    free(small);
    free(large);
    return 0;
}
