/* Scope-bound cleanup for C: memory, descriptors, streams and directories released when the
 * variable that owns them goes out of scope (header-only, gcc and clang). */
#ifndef MEMWALK_CLEANUP_H
#define MEMWALK_CLEANUP_H

/*
 * How it works
 * ------------
 * gcc and clang accept `__attribute__((cleanup(f)))` on a local variable: when the variable goes
 * out of scope, however the scope is left (end of block, return, break, continue), the compiler
 * calls f(&variable). Nothing runs at run time that you did not write: it is the call you would
 * have written by hand on every exit path, placed by the compiler.
 *
 *     mw_autofree char *line = malloc(n);          free(line) at scope exit
 *     mw_autoclose int fd = open(path, O_RDONLY);  close(fd) at scope exit if fd >= 0
 *     MW_AUTO(point) p = point_new();              point_free(p) at scope exit if p != NULL
 *
 * The rules
 * ---------
 * 1. Cleanups run in reverse order of declaration, like destructors: a variable declared later
 *    may depend on an earlier one (a buffer read from a stream) and is released first.
 * 2. Declare a cleanup variable where its value is made, with that value as its initialiser, not
 *    as `= NULL` at the top of the function. The variable then exists exactly while it owns
 *    something, and a later early return cannot release an uninitialised pointer.
 * 3. Never jump over a cleanup variable with goto (into its scope, past its declaration). clang
 *    rejects the program; gcc accepts it silently and calls the cleanup on an uninitialised
 *    value. Do not mix goto-based error handling and cleanup variables in one function: build
 *    with both compilers.
 * 4. Ownership leaves a scope only through a take: `return mw_take_ptr(buf);` reads the pointer,
 *    sets the variable to NULL and hands the value on; the cleanup then sees NULL and does
 *    nothing. `mw_take_fd(fd)` does the same for a descriptor (resets it to -1). Both warn when
 *    their result is ignored, since that would leak what was taken.
 * 5. Every cleanup tolerates the empty value (NULL, or a negative fd) and tests for it inline, so
 *    a taken variable costs one compare at scope exit, which the compiler usually removes.
 * 6. The cleanup sees the variable, not the value it was initialised with: reassigning it means
 *    the new value is released and the old one must have been released (or taken) by you.
 * 7. A cleanup runs at scope exit, not at exit(3), abort(3) or longjmp(3): those leave scopes
 *    without running cleanups (as they skip any code after them).
 *
 * Each cleanup keeps errno as it found it, so `return -1` with errno set by a failed call
 * survives the close(2) or free(3) that scope exit performs.
 *
 * Naming: the mw_cleanup_* inline functions are the functions behind the attributes; they are
 * public so that `__attribute__((cleanup(mw_cleanup_free)))` can be written directly, but the
 * macros are the intended interface.
 */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Frees *pp (a pointer to any object pointer) unless it is NULL. */
static inline __attribute__((unused)) void mw_cleanup_free(void *pp)
{
    void *p = *(void **)pp;

    if (p) {
        int saved = errno;
        free(p);
        errno = saved;
    }
}

/* Closes *fd unless it is negative, then sets it to -1. */
static inline __attribute__((unused)) void mw_cleanup_close(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        *fd = -1;
        errno = saved;
    }
}

/* Closes the stream *f unless it is NULL, then sets it to NULL. */
static inline __attribute__((unused)) void mw_cleanup_fclose(FILE **f)
{
    if (*f) {
        int saved = errno;
        fclose(*f);
        *f = NULL;
        errno = saved;
    }
}

/* Closes the directory stream *d unless it is NULL, then sets it to NULL. */
static inline __attribute__((unused)) void mw_cleanup_closedir(DIR **d)
{
    if (*d) {
        int saved = errno;
        closedir(*d);
        *d = NULL;
        errno = saved;
    }
}

/* `mw_autofree T *p = malloc(...);` frees p at scope exit (any pointer from malloc, calloc,
 * realloc, strdup, asprintf...). */
#define mw_autofree __attribute__((cleanup(mw_cleanup_free)))

/* `mw_autoclose int fd = open(...);` closes fd at scope exit when it is >= 0. */
#define mw_autoclose __attribute__((cleanup(mw_cleanup_close)))

/* `mw_autofclose FILE *f = fopen(...);` closes f at scope exit when it is not NULL. Errors from
 * fclose are lost there: call fclose yourself (after mw_take_ptr) where a write must be checked. */
#define mw_autofclose __attribute__((cleanup(mw_cleanup_fclose)))

/* `mw_autoclosedir DIR *d = opendir(...);` closes d at scope exit when it is not NULL. */
#define mw_autoclosedir __attribute__((cleanup(mw_cleanup_closedir)))

/* Declares how a type is released: once per type, at file scope (in a header next to the type if
 * it is shared). `type` is one identifier (a typedef name: write `typedef struct point point;`
 * first for a struct), `fn` is called as fn(type *) and only with a non-NULL pointer. */
#define MW_DEFINE_CLEANUP(type, fn)                                                         \
    static inline __attribute__((unused)) void mw_cleanup_auto_##type(type **mw_cleanup_pp) \
    {                                                                                       \
        if (*mw_cleanup_pp) {                                                               \
            int mw_cleanup_saved = errno;                                                   \
            fn(*mw_cleanup_pp);                                                             \
            errno = mw_cleanup_saved;                                                       \
        }                                                                                   \
    }

/* `MW_AUTO(type) p = type_new();` declares a `type *` released at scope exit by the function
 * given to MW_DEFINE_CLEANUP(type, ...). */
#define MW_AUTO(type) __attribute__((cleanup(mw_cleanup_auto_##type))) type *

/* The identity, marked so that an ignored result warns: mw_take_ptr passes through it. */
static inline __attribute__((unused, warn_unused_result)) const volatile void *
mw_cleanup_pass(const volatile void *p)
{
    return p;
}

/* Reads *fd, sets it to -1 and returns the old value. */
static inline __attribute__((unused, warn_unused_result)) int mw_cleanup_take_fd(int *fd)
{
    int v = *fd;

    *fd = -1;
    return v;
}

/* Returns the value of the pointer variable p (with p's own type) and sets p to NULL, so its
 * cleanup does nothing: ownership goes to whoever receives the result. p is evaluated once.
 * Ignoring the result is a warning with gcc (-Wunused-result), since the value would leak; clang
 * (14) drops warn_unused_result through the cast that gives the result p's type, so it only
 * checks the type: build with gcc too. */
#define mw_take_ptr(p)                         \
    ((__typeof__(p))mw_cleanup_pass(({         \
        __typeof__(p) *mw_take_pp = &(p);      \
        __typeof__(p) mw_take_v = *mw_take_pp; \
        *mw_take_pp = NULL;                    \
        mw_take_v;                             \
    })))

/* Returns the descriptor held by the int variable fd and sets fd to -1 (mw_autoclose then does
 * nothing). Ignoring the result is a warning. */
#define mw_take_fd(fd) mw_cleanup_take_fd(&(fd))

/* The record behind MW_DEFER: the function and its argument, captured at the declaration. */
typedef struct mw_cleanup_defer {
    void (*fn)(void *);
    void *arg;
} mw_cleanup_defer_t;

/* Calls d->fn(d->arg) unless arg is NULL. */
static inline __attribute__((unused)) void mw_cleanup_defer(mw_cleanup_defer_t *d)
{
    if (d->arg) {
        int saved = errno;
        d->fn(d->arg);
        errno = saved;
    }
}

#define MW_CLEANUP_CAT_(a, b) a##b
#define MW_CLEANUP_CAT(a, b)  MW_CLEANUP_CAT_(a, b)

/* `MW_DEFER(fn, arg);` calls fn(arg) when the enclosing scope exits, in reverse order with the
 * other cleanups of that scope. arg is evaluated at the MW_DEFER line (like Go's defer), must be
 * a pointer, and a NULL arg means no call. fn takes one pointer parameter (checked at compile
 * time); it is called through a `void (*)(void *)`, which every Linux ABI passes identically, but
 * with clang's -fsanitize=function give it a function whose parameter is exactly `void *`.
 *     pthread_mutex_lock(&lock);
 *     MW_DEFER(pthread_mutex_unlock, &lock);
 */
#define MW_DEFER(fn, arg)                                                                 \
    __attribute__((cleanup(mw_cleanup_defer), unused)) mw_cleanup_defer_t MW_CLEANUP_CAT( \
        mw_defer_, __COUNTER__) = {                                                       \
        ((void)sizeof((fn)(arg), 0), (void (*)(void *))(void (*)(void))(fn)), (void *)(arg)}

#endif
