/* Victim: C++ objects kept only through interior pointers that memcheck's heuristics accept
 * (stdstring, length64, newarray, multipleinheritance: still reachable) and one that none
 * accepts (possibly lost). */
#include <cstdlib>
#include <cstring>
#include <new>

struct Base {
    virtual ~Base()
    {
    }
    long a;
};
struct Other {
    virtual ~Other()
    {
    }
    long b;
};
struct Derived : Base, Other {
    long c[4];
};
struct WithDtor {
    ~WithDtor()
    {
    }
    int x;
};

char *string_chars;  /* old std::string: length, capacity, refcount, then the characters */
char *counted_bytes; /* sqlite-style: a 64-bit byte count, then the bytes */
WithDtor *array;     /* new[] of objects with a destructor: the count, then the elements */
Other *second_base;  /* a Derived seen through its second base */
char *just_inside;   /* 5 bytes into a plain block: no heuristic applies */

__attribute__((noinline)) static void make(void)
{
    size_t cap = 31;
    size_t *s = static_cast<size_t *>(malloc(3 * sizeof(size_t) + cap + 1)); /* @site make() */
    s[0] = 11;
    s[1] = cap;
    s[2] = 0;
    string_chars = reinterpret_cast<char *>(s + 3);
    strcpy(string_chars, "hello world");

    unsigned long long *c = static_cast<unsigned long long *>(malloc(8 + 40));
    c[0] = 40;
    counted_bytes = reinterpret_cast<char *>(c + 1);

    array = new WithDtor[10];
    second_base = new Derived();
    just_inside = static_cast<char *>(malloc(64)) + 5;
}

int main()
{
    make();
    return 0;
}
