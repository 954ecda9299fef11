/* Two { } blocks in one function: the second block's locals may take the slots the first one's
 * used, since a block's locals live only while the block runs. The program counts the slots
 * that were actually reused in this build. */
#include <memwalk/show.h>
#include <stdint.h>
#include <stdio.h>

int main(void)
{
    uintptr_t first[3], second[3];
    int shared = 0;

    {
        int a = 12, b = 24, c = 48;
        MW_SHOW(a);
        MW_SHOW(b);
        MW_SHOW(c);
        MW_DIFF(a, c);
        first[0] = (uintptr_t)&a, first[1] = (uintptr_t)&b, first[2] = (uintptr_t)&c;
    }
    {
        int x = 21, y = 42, z = 84;
        MW_SHOW(x);
        MW_SHOW(y);
        MW_SHOW(z);
        MW_DIFF(x, z);
        second[0] = (uintptr_t)&x, second[1] = (uintptr_t)&y, second[2] = (uintptr_t)&z;
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            shared += second[i] == first[j];
    printf("slots reused by the second block: %d of 3\n", shared);
    return 0;
}
