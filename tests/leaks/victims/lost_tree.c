/* Victim: a binary tree whose root pointer is dropped: the root is definitely lost, every other
 * node indirectly lost. */
#include <stdlib.h>

struct node {
    struct node *left, *right;
    long value;
};

__attribute__((noinline)) static struct node *build(int depth)
{
    struct node *n;

    if (depth == 0)
        return NULL;
    n = malloc(sizeof *n); /* @site build */
    n->value = depth;
    n->left = build(depth - 1);
    n->right = build(depth - 1);
    return n;
}

int main(void)
{
    struct node *volatile root = build(6);
    root = NULL;
    return 0;
}
