/* Victim: a program that turns the time stamp counter off for itself (PR_SET_TSC: reading it
 * then raises SIGSEGV), through prctl and through syscall, then frees blocks by the thousand
 * in both patterns that move the tracer's batch of frees (freed at once, and old ones at
 * random), which the tracer sizes by timing loads with that counter (src/leak/entry.c). Exits
 * 3 when prctl no longer reads back what was set, 0 with one block of 100 bytes lost. */
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LIVE 4096

__attribute__((noinline)) static void leak_one(void)
{
    char *volatile p = malloc(100);
    memset(p, 1, 100);
}

int main(int argc, char **argv)
{
    static void *live[LIVE];
    unsigned x = 12345;
    int tsc = -1, i;

    if (argc > 1 && strcmp(argv[1], "syscall") == 0) {
        if (syscall(SYS_prctl, PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) != 0)
            return 2;
    } else if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) != 0) {
        return 2;
    }
    if (prctl(PR_GET_TSC, &tsc, 0, 0, 0) != 0 || tsc != PR_TSC_SIGSEGV)
        return 3;
    leak_one(); /* (first: the work after it leaves no copy of its pointer) */
    for (i = 0; i < 100000; i++)
        free(malloc(32 + i % 64));
    for (i = 0; i < LIVE; i++)
        live[i] = malloc(48);
    for (i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        free(live[(x >> 8) % LIVE]);
        live[(x >> 8) % LIVE] = malloc(16 + x % 200);
    }
    for (i = 0; i < LIVE; i++)
        free(live[i]);
    return 0;
}
