/* Victim: lowers its soft address-space limit to what it uses, leaks 1,000 blocks
 * and exits; the check still has room for its tables (issue 9, 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(void)
{
    struct rlimit rl;
    unsigned long pages = 0;
    FILE *f;
    int i;

    for (i = 0; i < 1000; i++) {
        char *volatile p = malloc(100); /* @site main */
        memset(p, 0, 100);
    }
    f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%lu", &pages) != 1)
        return 2;
    fclose(f);
    getrlimit(RLIMIT_AS, &rl);
    rl.rlim_cur = pages * (unsigned long)sysconf(_SC_PAGESIZE); /* no room for any mapping */
    setrlimit(RLIMIT_AS, &rl);
    return 0;
}
