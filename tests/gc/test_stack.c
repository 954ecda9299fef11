/* Stacks as roots, whatever their size or place: a main stack far deeper than 8 MiB under an
 * unlimited stack limit (set before exec, or lifted at run time), collected from main or from
 * another thread, and a collection on a coroutine's stack. Each case runs tests/gc/deep_stack.c,
 * which checks every object held only by the frames, with freed memory poisoned. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "../support/run.h"

static void deep_stack(const char *mode)
{
    char cmd[512], *out;
    int status;

    snprintf(cmd, sizeof cmd, "MEMWALK_GC_POISON=1 %s/tests/gc-deep-stack %s 2>&1", MW_BUILD_DIR,
             mode);
    out = run(cmd, &status);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        free(out);
        cr_skip_test("the stack limit cannot be lifted here");
    }
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: status %#x:\n%s", mode, status,
              out);
    cr_assert_null(strstr(out, "memwalk gc:"), "%s: the collector complained:\n%s", mode, out);
    free(out);
}

Test(gc_stack, deep_main_stack_under_unlimited_limit_is_scanned, .timeout = 60)
{
    deep_stack("main");
}

Test(gc_stack, deep_main_stack_is_scanned_when_another_thread_collects, .timeout = 60)
{
    deep_stack("thread");
}

Test(gc_stack, deep_main_stack_is_scanned_after_the_limit_is_lifted_at_run_time, .timeout = 60)
{
    deep_stack("raised");
}

Test(gc_stack, collection_on_a_coroutine_stack_keeps_both_stacks, .timeout = 60)
{
    deep_stack("coroutine");
}
