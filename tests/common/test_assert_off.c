/* mw__assert in a release build (MW_ASSERTS=0): the condition is never evaluated. */
#undef MW_ASSERTS
#define MW_ASSERTS 0
#include <criterion/criterion.h>

#include "common/assert.h"

static int calls;

int counted(void);
int counted(void)
{
    calls++;
    return 0;
}

Test(assert, off_evaluates_nothing)
{
    mw__assert(counted());
    cr_assert_eq(calls, 0);
}
