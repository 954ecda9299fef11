/* A program for the live tests: prints where its own variables live, then waits for EOF on stdin
 * so the test can read its map. Built as PIE, non-PIE and static. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int g_bss;                    /* a small int: it shares the last file-backed page with .data */
int g_data = 1;               /* .data */
const char g_ro[] = "rodata"; /* .rodata */

int main(void)
{
    char *heap = malloc(16);
    int local = 0;
    char c;

    printf("bss=%p data=%p ro=%p text=%p heap=%p stack=%p\n", (void *)&g_bss, (void *)&g_data,
           (void *)g_ro, (void *)main, (void *)heap, (void *)&local);
    fflush(stdout);
    while (read(0, &c, 1) > 0)
        ;
    free(heap);
    return 0;
}
