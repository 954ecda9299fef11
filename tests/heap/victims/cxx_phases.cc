// C++ heap phases: a vector grown by push_back (operator new, the old buffers freed), a map of
// strings (many small nodes), arrays from new[]; the peak while all three live, then a smaller
// second phase. Massif's tree starts at the callers of operator new / new[].
#include <cstdio>
#include <map>
#include <string>
#include <vector>

__attribute__((noinline)) static std::vector<long> *grow_vector(int n)
{
    auto *v = new std::vector<long>;
    for (int i = 0; i < n; i++)
        v->push_back(i);
    return v;
}

__attribute__((noinline)) static std::map<int, std::string> *fill_map(int n)
{
    auto *m = new std::map<int, std::string>;
    for (int i = 0; i < n; i++)
        (*m)[i] = std::string(40, 'a' + i % 26);
    return m;
}

__attribute__((noinline)) static char **arrays(int n)
{
    char **a = new char *[n];
    for (int i = 0; i < n; i++)
        a[i] = new char[3000];
    return a;
}

int main()
{
    auto *v = grow_vector(100000);
    auto *m = fill_map(5000);
    char **a = arrays(200);
    long sum = (*v)[99999] + (long)m->size() + a[0][0];
    for (int i = 0; i < 200; i++)
        delete[] a[i];
    delete[] a;
    delete m;
    delete v;
    v = grow_vector(20000);
    sum += (*v)[100];
    delete v;
    std::printf("%ld\n", sum > 0 ? 1L : 0L);
    return 0;
}
