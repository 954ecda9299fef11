/* Victim: closes every descriptor from 0 to 1023 (a daemon's habit), opens a file of its own
 * (it may get the number the tracer's descriptor had) and leaks a block. The tracer must never
 * write into the program's file; by hand (MEMWALK_OUT) the report is still written (issue 9,
 * 2). Argument: the file to open. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char *volatile p = malloc(42); /* @site main */
    int fd;

    memset(p, 0, 42);
    p = NULL;
    for (fd = 0; fd < 1024; fd++)
        close(fd);
    if (argc > 1) {
        int i;
        for (i = 0; i < 8; i++)
            if (open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644) < 0)
                return 2;
    }
    return 0;
}
