/* The library's run-time version. */
#include <memwalk/memwalk.h>

const char *mw_version(void)
{
    return MEMWALK_VERSION_STRING;
}
