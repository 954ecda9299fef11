/* Runs every cleanup.h scenario in one plain process (no test framework allocating behind its
 * back), so that valgrind can check that scope exits released everything: 0 bytes in use. It
 * also counts its open descriptors before and after: the scenarios must not leak any. */
#include <dirent.h>

#include "cases.h"

static int count_fds(void)
{
    mw_autoclosedir DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    return n;
}

int main(void)
{
    size_t n = sizeof cleanup_cases / sizeof cleanup_cases[0], failed = 0;
    int fds_before = count_fds(), fds_after;

    for (size_t i = 0; i < n; i++) {
        const char *err = cleanup_cases[i].fn();
        if (err) {
            fprintf(stderr, "cleanup_prog: %s: %s\n", cleanup_cases[i].name, err);
            failed++;
        }
    }
    fds_after = count_fds();
    if (fds_before < 0 || fds_after != fds_before) {
        fprintf(stderr, "cleanup_prog: open descriptors: %d before, %d after\n", fds_before,
                fds_after);
        failed++;
    }
    printf("cleanup_prog: %zu scenarios, %zu failed, descriptors %d before and %d after\n", n,
           failed, fds_before, fds_after);
    return failed ? 1 : 0;
}
