/* Victim: an unreachable cycle (the first allocated block is definitely lost, the other
 * indirectly lost) and a cycle kept by a global (reachable). */
#include <stdlib.h>

struct pair {
    struct pair *other;
    long pad[3];
};

struct pair *kept;

__attribute__((noinline)) static struct pair *cycle(void)
{
    struct pair *a = malloc(sizeof *a); /* @site cycle */
    struct pair *b = malloc(sizeof *b + 16);

    a->other = b;
    b->other = a;
    return a;
}

int main(void)
{
    struct pair *volatile lost = cycle();
    kept = cycle();
    lost = NULL;
    return 0;
}
