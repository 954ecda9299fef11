/* Victim: setenv (libc keeps the strings; its freeres releases them) and a FILE left open
 * (still reachable through libc's list of open streams). */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    FILE *f;

    setenv("MEMWALK_VICTIM", "some value", 1);
    setenv("MEMWALK_VICTIM2", "another value", 1);
    f = fopen("/proc/self/status", "r"); /* @site main */
    if (!f || fgetc(f) == EOF)
        return 1;
    return 0;
}
