// Victim: every operator new and delete of C++ (plain, array, nothrow, sized, aligned): the
// stacks start at operator new, as memcheck's do, and the counts are memcheck's (issue 9, 2).
#include <cstdlib>
#include <new>

struct alignas(64) Wide {
    char bytes[64];
};

__attribute__((noinline)) static void *lose_new()
{
    return new long[4];
}

__attribute__((noinline)) static void *lose_nothrow()
{
    return new (std::nothrow) int(5);
}

__attribute__((noinline)) static void *lose_aligned()
{
    return new Wide;
}

int main()
{
    for (int i = 0; i < 10; i++) {
        int *a = new int(i);
        delete a;
        int *b = new int[i + 1];
        delete[] b;
        Wide *w = new Wide;
        delete w;
        Wide *ws = new Wide[2];
        delete[] ws;
        int *n = new (std::nothrow) int[3];
        delete[] n;
        ::operator delete(::operator new(16), 16); // sized
    }
    void *volatile kept[3] = {lose_new(), lose_nothrow(), lose_aligned()}; // @site main
    kept[0] = kept[1] = kept[2] = nullptr;
    return 0;
}
