/* Tests for include/memwalk/cleanup.h: order, early exits, loops, nesting, takes, each helper. */
#include <criterion/criterion.h>

#include "cases.h"

/* One Criterion test per scenario of cases.h (the scenarios hold their own checks). */
#define CLEANUP_TEST(name)                            \
    Test(cleanup, name)                               \
    {                                                 \
        const char *err = case_##name();              \
        cr_assert(err == NULL, "%s", err ? err : ""); \
    }

CLEANUP_TEST(reverse_order)
CLEANUP_TEST(defer_interleaves_with_autos)
CLEANUP_TEST(early_return_releases_what_exists)
CLEANUP_TEST(loop_break_and_continue)
CLEANUP_TEST(while_loop_each_iteration)
CLEANUP_TEST(nested_scopes)
CLEANUP_TEST(taken_pointer_is_not_freed)
CLEANUP_TEST(take_resets_variable_and_keeps_type)
CLEANUP_TEST(take_evaluates_its_argument_once)
CLEANUP_TEST(take_fd_keeps_it_open)
CLEANUP_TEST(autoclose_closes)
CLEANUP_TEST(autofclose_closes)
CLEANUP_TEST(autoclosedir_closes)
CLEANUP_TEST(empty_values_are_skipped)
CLEANUP_TEST(cleanups_keep_errno)
CLEANUP_TEST(defer_unlocks_on_return)
CLEANUP_TEST(defer_takes_argument_at_declaration)

Test(cleanup, every_scenario_has_a_test)
{
    /* A scenario added to cases.h without a CLEANUP_TEST line would run only in cleanup_prog. */
    cr_assert_eq(sizeof cleanup_cases / sizeof cleanup_cases[0], 17);
}
