/* A Boehm GC program built only from an installed memwalk: <gc.h> from
 * -I$(pkg-config --variable=boehmincludedir memwalk), linked with -lmemwalk-boehm. It keeps a
 * list across collections and says which library serves it. */
#include <gc.h>
#include <stdio.h>

struct node {
    struct node *next;
    int value;
};

int main(void)
{
    struct node *head = NULL, *p;
    int i, n = 0;

    GC_INIT();
    for (i = 0; i < 100000; i++) {
        p = GC_NEW(struct node);
        p->value = i;
        p->next = head;
        head = p;
        (void)GC_MALLOC_ATOMIC(64);
    }
    GC_gcollect();
    for (p = head, i = 99999; p; p = p->next, i--, n++)
        if (p->value != i)
            return 1;
    printf("boehm consumer: %d nodes kept, %lu collections, version %u.%u\n", n,
           (unsigned long)GC_get_gc_no(), GC_get_version() >> 16, (GC_get_version() >> 8) & 255);
    return n == 100000 && GC_get_gc_no() > 0 ? 0 : 1;
}
