/* Victim: one leaked block through each allocator entry point and each C library function
 * that allocates for its caller, every size different: memcheck names the first frames of
 * these stacks in its own way (memalign for aligned_alloc, malloc for realloc(NULL, n),
 * strdup rather than __strdup), and valgrind-generated suppressions must match them. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Each helper keeps a frame of its own: not inlined, not cloned, no tail call. */
#ifdef __clang__
#define NOIPA __attribute__((noinline, disable_tail_calls))
#else
#define NOIPA __attribute__((noipa))
#endif

static void *volatile sink;
static void *volatile none; /* NULL the compiler cannot see: realloc(NULL, n) stays a realloc */
/* malloc's address, taken in code: in a program built without PIE it is then the program's
 * PLT entry (entry_points_nopie is this program built so). */
static void *(*volatile alloc_fn)(size_t);

static void drop(void *p)
{
    sink = p;
    sink = NULL;
}

NOIPA static char *formatted(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) /* @site formatted */
        s = NULL;
    va_end(ap);
    return s;
}

int main(void)
{
    void *p = NULL;
    char *s = NULL, *line = NULL;
    size_t cap = 0;
    FILE *f;

    alloc_fn = malloc;
    drop(malloc(101));                     /* @site main */
    drop(calloc(1, 102));                  /* @site main */
    drop(realloc(none, 103));              /* @site main */
    drop(realloc(malloc(1), 104));         /* @site main */
    drop(reallocarray(none, 1, 105));      /* @site main */
    drop(reallocarray(malloc(1), 1, 106)); /* @site main */
    drop(memalign(64, 107));               /* @site main */
    drop(aligned_alloc(64, 128));          /* @site main */
    if (posix_memalign(&p, 64, 109) == 0)  /* @site main */
        drop(p);
    drop(alloc_fn(111));                                           /* @site main */
    drop(valloc(110));                                             /* @site main */
    drop(strdup("a string of 20 bytes"));                          /* @site main */
    drop(strndup("a longer string of 30 bytes!!", 29));            /* @site main */
    if (asprintf(&s, "%s", "a formatted string of 31 bytes") >= 0) /* @site main */
        drop(s);
    drop(formatted("%s", "through vasprintf, 27 bytes"));
    drop(realpath("/", NULL)); /* @site main */
    drop(getcwd(NULL, 0));     /* @site main */
    f = fopen("/proc/self/status", "r");
    if (f) {
        if (getline(&line, &cap, f) > 0) /* @site main */
            drop(line);
        fclose(f);
    }
    return 0;
}
