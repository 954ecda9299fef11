/* Victim: glibc's __libc_* twins called directly in a program built without PIE that also takes
 * the address of the standard functions (so that their canonical addresses are the program's
 * PLT entries); memcheck names frame 0 of each stack after the standard function (malloc,
 * calloc, realloc, memalign; valloc as memalign), and frame 1 is the caller. (valgrind does not
 * replace __libc_pvalloc: it is left out.) */
#include <malloc.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);

static void *volatile sink;
static void *volatile none;
/* The standard functions' addresses, taken in code. */
void *volatile fns[5];

static void drop(void *p)
{
    sink = p;
    sink = NULL;
}

int main(void)
{
    fns[0] = (void *)malloc;
    fns[1] = (void *)calloc;
    fns[2] = (void *)realloc;
    fns[3] = (void *)memalign;
    fns[4] = (void *)valloc;
    drop(__libc_malloc(201));             /* @site main */
    drop(__libc_calloc(1, 202));          /* @site main */
    drop(__libc_realloc(none, 203));      /* @site main */
    drop(__libc_realloc(malloc(1), 206)); /* @site main */
    drop(__libc_memalign(64, 204));       /* @site main */
    drop(__libc_valloc(205));             /* @site main */
    return 0;
}
