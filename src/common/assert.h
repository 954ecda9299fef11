/* mw__assert: the invariants of the allocator, the mark loop and the preload's tables, checked in
 * debug and test builds (MW_ASSERTS=1: `make ASSERTS=1`, and the clang build of `make check`) and
 * compiled to nothing in release builds (the default).
 *
 * A failed assertion writes one line to standard error with write(2) and aborts: no stdio, no
 * allocation, no lock, so it is safe in the preload, in a signal handler and inside the
 * collector while the world is stopped. The condition is not evaluated in release builds, so it
 * must have no side effect. */
#ifndef MEMWALK_COMMON_ASSERT_H
#define MEMWALK_COMMON_ASSERT_H

#ifndef MW_ASSERTS
#define MW_ASSERTS 0
#endif

/* Prints "memwalk: internal error: FILE:LINE: FUNC: assertion 'EXPR' failed" and aborts. */
__attribute__((noreturn, cold)) void mw__assert_fail(const char *expr, const char *file, int line,
                                                     const char *func);

#if MW_ASSERTS
#define mw__assert(expr) \
    (__builtin_expect(!!(expr), 1) ? (void)0 : mw__assert_fail(#expr, __FILE__, __LINE__, __func__))
#else
/* Type-checked, never evaluated. */
#define mw__assert(expr) ((void)sizeof(!(expr)))
#endif

#endif
