/* A Boehm GC program that imports a function memwalk does not provide (GC_register_disclaim_proc),
 * without calling it: `memwalk gc-run` must say so when it starts. */
#include <gc.h>
#include <gc/gc_disclaim.h>
#include <stdio.h>
#include <string.h>

static int disclaim(void *obj)
{
    (void)obj;
    return 0;
}

int main(int argc, char **argv)
{
    GC_INIT();
    if (argc > 1 && !strcmp(argv[1], "call"))
        GC_register_disclaim_proc(0, disclaim, 0);
    printf("%s\n", GC_MALLOC(10) ? "allocated" : "failed");
    return 0;
}
