/* Programs that must not compile with -Werror (compile-checks.sh builds one case per -D flag),
 * plus CASE_OK, the same code used correctly, which must compile: a failure then proves the
 * diagnostic, not a broken header. */
#include <fcntl.h>
#include <stdlib.h>

#include <memwalk/cleanup.h>

char *take_ptr_case(void);
int take_fd_case(void);
int *wrong_type_case(void);
int goto_case(int fail);

char *take_ptr_case(void)
{
    mw_autofree char *s = malloc(8);
#if defined(CASE_IGNORED_TAKE_PTR)
    mw_take_ptr(s); /* the taken block would leak */
    return NULL;
#else
    return mw_take_ptr(s);
#endif
}

int take_fd_case(void)
{
    mw_autoclose int fd = open("/dev/null", O_RDONLY);
#if defined(CASE_IGNORED_TAKE_FD)
    mw_take_fd(fd); /* the descriptor would leak */
    return -1;
#else
    return mw_take_fd(fd);
#endif
}

int *wrong_type_case(void)
{
    mw_autofree int *n = malloc(sizeof *n);
#if defined(CASE_WRONG_TYPE)
    mw_autofree char *c = malloc(1);
    return mw_take_ptr(c); /* a char * is not an int *: the take keeps the type */
#else
    return mw_take_ptr(n);
#endif
}

int goto_case(int fail)
{
#if defined(CASE_GOTO_PAST_CLEANUP)
    if (fail)
        goto out; /* jumps past the declaration below: clang refuses, gcc does not */
#endif
    {
        mw_autofree char *s = malloc(8);
        if (!s)
            return -1;
    }
#if defined(CASE_GOTO_PAST_CLEANUP)
    mw_autofree char *late = malloc(8);
    (void)late;
out:
#endif
    return fail;
}
