/* Victim: leaks a block and kills itself with SIGKILL. memcheck intercepts the call and reports
 * first; so does the tracer (a SIGKILL from another process cannot be reported by anyone). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char *volatile p = malloc(50); /* @site main */

    memset(p, 0, 50);
    p = NULL;
    kill(getpid(), SIGKILL);
    return 0;
}
