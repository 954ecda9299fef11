/* Victim: clears its environment and executes the program named by its argument (with execv,
 * or execle with an empty environment when a second argument is given). With
 * --trace-children=yes the executed program is still traced, as under valgrind (issue 9, 2). */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char *const empty[] = {NULL};

    if (argc < 2)
        return 2;
    clearenv();
    if (argc > 2)
        execle(argv[1], argv[1], (char *)NULL, empty);
    else
        execv(argv[1], argv + 1);
    return 127;
}
