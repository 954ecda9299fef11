/* The one heapsort of the preload: (key, value) pairs by key. Heapsort because it needs no
 * memory and no recursion and its time is bounded whatever the input. */
#include "leak/leak.h"

static void sift(mw__pair_t *a, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        mw__pair_t t;
        if (c >= n)
            return;
        if (c + 1 < n && a[c + 1].key > a[c].key)
            c++;
        if (a[i].key >= a[c].key)
            return;
        t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

void mw__sort_pairs(mw__pair_t *a, size_t n)
{
    size_t i;

    for (i = n / 2; i-- > 0;)
        sift(a, i, n);
    for (i = n; i-- > 1;) {
        mw__pair_t t = a[0];
        a[0] = a[i];
        a[i] = t;
        sift(a, 0, i);
    }
}
