/* Victim: linked statically, so no preload can reach it. */
#include <stdlib.h>

int main(void)
{
    return malloc(1) == NULL;
}
