/* Victim: every bad free of C (issue 12, 1), each compared with memcheck's report: a double
 * free, a free inside a live block, of a stack address, of a global, of an address never
 * allocated, inside a freed block, realloc of a freed block, an aligned block freed twice, and
 * one double free repeated so that its errors merge into one context. With "warm", first 20,000
 * blocks freed as soon as they are made: the tracer's batches of frees shrink to their least
 * (entry.c), and the bad frees are then checked in those. */
#include <stdlib.h>
#include <string.h>

static char global[64];

__attribute__((noinline)) static char *make(size_t n)
{
    char *p = malloc(n);
    __asm__ volatile("" ::"r"(p) : "memory");
    return p;
}

__attribute__((noinline)) static void drop(void *p)
{
    free(p);
    __asm__ volatile("" ::: "memory"); /* a real call, not a tail call */
}

int main(int argc, char **argv)
{
    char local[32];
    volatile int reps = 3; /* a loop, not three calls */
    char *a = make(40), *b, *c, *d;
    void *al;
    int i;

    if (argc > 1 && strcmp(argv[1], "warm") == 0)
        for (i = 0; i < 20000; i++)
            drop(make(48));
    drop(a);
    drop(a); /* double free */
    b = make(100);
    drop(b + 16);         /* inside a live block */
    drop(local + 8);      /* on the stack */
    drop(global + 16);    /* in a global */
    drop((void *)0x1000); /* never allocated */
    d = make(200);
    drop(d);
    drop(d + 48); /* inside a freed block */
    c = make(24);
    drop(c);
    c = realloc(c, 48); /* realloc of a freed block */
    for (i = 0; i < reps; i++)
        drop(a); /* one context, three errors */
    drop(b);
    al = aligned_alloc(64, 128);
    drop(al);
    drop(al); /* an aligned block freed twice */
    memset(local, 0, sizeof local);
    __asm__ volatile("" ::"r"(local), "r"(c) : "memory");
    return 0;
}
