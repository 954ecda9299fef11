/* The seed's frames experiment: a local of a function and a local of the function it calls.
 * The callee's frame sits below the caller's: the stack grows toward lower addresses. */
#include <memwalk/show.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void stack_frame2(const int *caller_local)
{
    int b = 2;

    MW_SHOW(b);
    printf("b is %ld bytes %s a\n", labs((long)((const char *)caller_local - (const char *)&b)),
           (const char *)&b < (const char *)caller_local ? "below" : "above");
}

__attribute__((noinline)) static void stack_frame1(void)
{
    int a = 1;

    MW_SHOW(a);
    stack_frame2(&a);
    __asm__ volatile("" : : "r"(&a) : "memory"); /* keep the frame: no tail call */
}

int main(void)
{
    stack_frame1();
    return 0;
}
