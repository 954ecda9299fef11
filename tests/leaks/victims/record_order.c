/* Victim: loss records of equal sizes in every kind, so that their order and numbers ("loss
 * record N of M") can be compared with memcheck's: reachable, possibly lost, indirectly lost
 * and definitely lost blocks of 48 bytes; 32-byte records of 1 and 2 blocks. */
#include <stdlib.h>
#include <string.h>

/* Each helper keeps a frame of its own: not inlined, not cloned, no tail call. */
#ifdef __clang__
#define NOIPA __attribute__((noinline, disable_tail_calls))
#else
#define NOIPA __attribute__((noipa))
#endif

void *reach48, *reach32;
char *inside48;
static void *volatile sink;

NOIPA static void *block(size_t n)
{
    void *p = malloc(n); /* @site block */
    memset(p, 0x55, n);
    __asm__ volatile("" : : "r"(p) : "memory");
    return p;
}

NOIPA static void lose(size_t n)
{
    sink = block(n);
    sink = NULL;
}

NOIPA static void lose_with_child(void)
{
    void **parent = block(16);
    parent[0] = block(48); /* indirectly lost: only the lost parent points to it */
    sink = parent;
    sink = NULL;
}

NOIPA static void lose_two(void)
{
    for (volatile int i = 0; i < 2; i++)
        lose(16);
    sink = NULL;
}

int main(void)
{
    lose(48);
    lose_with_child();
    inside48 = (char *)block(48) + 8; /* possibly lost: an interior pointer only */
    reach48 = block(48);
    lose(32);
    lose_two();
    reach32 = block(32);
    return 0;
}
