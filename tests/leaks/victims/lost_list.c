/* Victim: a linked list whose head is dropped: the head is definitely lost, the rest
 * indirectly lost; a second list stays reachable from a global. */
#include <stdlib.h>

struct item {
    struct item *next;
    char payload[40];
};

struct item *kept;

__attribute__((noinline)) static struct item *make_list(int n)
{
    struct item *head = NULL;

    while (n-- > 0) {
        struct item *it = malloc(sizeof *it); /* @site make_list */
        it->next = head;
        head = it;
    }
    return head;
}

int main(void)
{
    struct item *volatile lost = make_list(50);
    kept = make_list(5);
    lost = NULL;
    return 0;
}
