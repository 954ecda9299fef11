/* Victim: stale words in reused memory (issue 9, 2). Dangling globals point where freed blocks
 * were, and new blocks of the same size are handed those addresses again; freed blocks held
 * pointers, and new blocks made in their memory never overwrite them. memcheck delays reuse
 * (--freelist-vol) and ignores words never written: every new block is definitely lost, and so
 * is every block only a stale word pointed at. The tracer agrees with MEMWALK_FREELIST_VOL. */
#include <stdlib.h>
#include <string.h>

#define N 100

struct node {
    struct node *next;
    char pad[40];
};

struct node *volatile dangling[N];

__attribute__((noinline)) static struct node *make(void)
{
    return malloc(sizeof(struct node));
}

int main(void)
{
    struct node *x[N];
    int i;

    /* 1: the same addresses again */
    for (i = 0; i < N; i++) {
        dangling[i] = make();
        memset(dangling[i], 0, sizeof(struct node));
    }
    for (i = 0; i < N; i++)
        free(dangling[i]);
    for (i = 0; i < N; i++) {
        struct node *volatile b = make();
        b->pad[0] = 1; /* the pointer itself is dropped */
    }
    /* 2: words the new blocks never write */
    for (i = 0; i < N; i++) {
        x[i] = make();
        x[i]->next = make();
        memset(x[i]->next, 0, sizeof(struct node));
    }
    for (i = 0; i < N; i++)
        free(x[i]);
    for (i = 0; i < N; i++) {
        struct node *volatile z = make();
        z->pad[0] = 2; /* next is never written */
    }
    memset(x, 0, sizeof x);
    return 0;
}
