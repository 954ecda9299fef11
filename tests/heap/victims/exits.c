/* Ends as told: "status N" exits with N holding 64 KiB, "signal N" raises N, "exec" executes
 * /bin/true; each after allocating. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char *p = malloc(65536);

    memset(p, 3, 65536);
    if (argc > 2 && strcmp(argv[1], "status") == 0)
        return atoi(argv[2]);
    if (argc > 2 && strcmp(argv[1], "signal") == 0)
        raise(atoi(argv[2]));
    if (argc > 1 && strcmp(argv[1], "exec") == 0)
        execl("/bin/true", "true", (char *)NULL);
    free(p);
    return 0;
}
