/* A program built only from an installed memwalk (pkg-config --cflags --libs memwalk): it checks
 * that the header and the loaded library agree, then uses the library. */
#include <memwalk/memwalk.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    printf("memwalk %s (library %s)\n", MEMWALK_VERSION_STRING, mw_version());
    return strcmp(MEMWALK_VERSION_STRING, mw_version()) != 0;
}
