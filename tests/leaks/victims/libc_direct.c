/* Victim: glibc's __libc_* allocator names called directly, mixed with malloc/free/realloc in
 * both directions (issue 9, 1); memcheck replaces them too, so the counts are the same, and
 * frame 0 is named malloc, as memcheck names it. */
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

__attribute__((noinline)) static void *keep_one(void)
{
    return __libc_malloc(77);
}

int main(void)
{
    void *volatile p;
    int i;

    for (i = 0; i < 100; i++) {
        p = __libc_malloc(100);
        memset(p, 1, 100);
        free(p);
        p = malloc(100);
        __libc_free(p);
        p = __libc_calloc(10, 10);
        p = realloc(p, 1000);
        free(p);
        p = malloc(10);
        p = __libc_realloc(p, 2000);
        free(p);
        p = __libc_memalign(64, 100);
        free(p);
    }
    p = keep_one(); /* @site main */
    p = NULL;
    return 0;
}
