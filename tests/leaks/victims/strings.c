/* Victim: memory allocated inside libc for the program: strdup, asprintf, getline. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *volatile s = strdup("a string that leaks"); /* @site main */
    char *volatile t = NULL;
    char *line = NULL;
    size_t cap = 0;
    FILE *f = fopen("/proc/self/status", "r");

    if (asprintf((char **)&t, "%s and %d more", s, 42) < 0)
        return 1;
    if (f) {
        if (getline(&line, &cap, f) < 0)
            return 1;
        fclose(f);
    }
    s = t = NULL;
    line = NULL;
    return 0;
}
