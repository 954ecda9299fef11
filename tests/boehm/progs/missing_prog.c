/* A Boehm GC program that imports a function memwalk does not provide (GC_malloc_many), without
 * calling it unless asked: `memwalk gc-run` must say so when it starts. */
#include <gc.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    GC_INIT();
    if (argc > 1 && !strcmp(argv[1], "call"))
        printf("%p\n", GC_malloc_many(16));
    printf("%s\n", GC_MALLOC(10) ? "allocated" : "failed");
    return 0;
}
