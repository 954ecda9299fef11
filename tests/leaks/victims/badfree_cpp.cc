// Victim: mismatched releases and deletes of freed blocks (issue 12, 1), compared with
// memcheck's report: malloc / delete, new / free, new[] / delete, new / delete[], and delete
// and delete[] of blocks already deleted.
#include <cstdlib>
#include <new>

__attribute__((noinline)) static int *one()
{
    return new int(1);
}

__attribute__((noinline)) static int *many()
{
    return new int[10];
}

template <typename T> static T *opaque(T *p)
{
    __asm__ volatile("" : "+r"(p)::"memory");
    return p;
}

int main()
{
    int *a = opaque(static_cast<int *>(malloc(40)));
    delete a; // malloc / delete
    int *b = opaque(one());
    free(b); // new / free
    int *c = opaque(many());
    delete c; // new[] / delete
    int *d = opaque(one());
    delete[] d; // new / delete[]
    int *e = opaque(one());
    delete e;
    delete opaque(e); // deleted twice
    int *f = opaque(many());
    delete[] f;
    delete[] opaque(f); // deleted twice, array
    return 0;
}
