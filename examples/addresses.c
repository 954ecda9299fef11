/* The seed's first C experiment on memwalk: six locals of main shown with MW_SHOW, and the
 * distances between them with MW_DIFF. Where they land and in which order is the compiler's
 * choice; MW_SHOW says which region holds them. */
#include <memwalk/show.h>

int main(void)
{
    int a = 12, b = 24, c = 48;
    int x = 21, y = 42, z = 84;

    MW_SHOW(a);
    MW_SHOW(b);
    MW_SHOW(c);
    MW_DIFF(a, b);
    MW_DIFF(b, c);
    MW_DIFF(a, c);
    MW_SHOW(x);
    MW_SHOW(y);
    MW_SHOW(z);
    MW_DIFF(x, y);
    MW_DIFF(y, z);
    MW_DIFF(x, z);
    return (a + b + c + x + y + z) == 231 ? 0 : 1;
}
