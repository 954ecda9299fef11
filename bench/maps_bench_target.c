/* Benchmark target: makes N separate anonymous mappings (alternating permissions so the kernel
 * cannot merge them), touches one page of each, prints "ready" and waits for EOF on stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000, page = sysconf(_SC_PAGESIZE), i;
    char *base, c;

    /* One reservation, then every other page made read-only: n regions side by side. */
    base = mmap(NULL, (size_t)(n * 2 * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (i = 0; i < n; i++) {
        base[i * 2 * page] = 1;
        if (mprotect(base + (i * 2 + 1) * page, (size_t)page, PROT_READ) != 0) {
            perror("mprotect");
            return 1;
        }
    }
    printf("ready\n");
    fflush(stdout);
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
