/* The names memcheck gives to functions in its stacks: which alias of an address it shows,
 * which functions are main and "below main", and what it calls the allocator entry point a
 * block came through. Pure functions, so the unit suite tests them without libdw. */
#include "cli/leaks_int.h"

#include <ctype.h>
#include <string.h>

/* Length of a symbol name without its version ("foo@@GLIBC_2.2.5" counts as "foo"). */
static size_t unversioned_len(const char *s, int *versioned)
{
    const char *at = strchr(s, '@');

    *versioned = at != NULL;
    return at ? (size_t)(at - s) : strlen(s);
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

/* memcheck lists every name of an address and shows one, chosen by these rules in turn: a
 * profiling PMPI_ name over its MPI_ twin; a non-empty name; a name that is not all blanks;
 * the shortest name, not counting a version suffix; at equal length a versioned name; the
 * alphabetically first. So strdup wins over __strdup and __GI___strdup, asprintf over
 * __asprintf, and "__libc_start_main@@GLIBC_2.34" over "__libc_start_main_impl". */
int lk_sym_prefer(const char *a, const char *b)
{
    size_t la, lb;
    int va, vb, c;

    if (strncmp(a, "PMPI_", 5) == 0 && strncmp(b, "MPI_", 4) == 0 && strcmp(a + 1, b) == 0)
        return 1;
    if (strncmp(b, "PMPI_", 5) == 0 && strncmp(a, "MPI_", 4) == 0 && strcmp(b + 1, a) == 0)
        return 0;
    la = unversioned_len(a, &va);
    lb = unversioned_len(b, &vb);
    if ((la == 0) != (lb == 0))
        return la != 0;
    if (blank(a) != blank(b))
        return !blank(a);
    if (la != lb)
        return la < lb;
    if (va != vb)
        return va;
    c = strcmp(a, b);
    return c <= 0;
}

int lk_fn_kind(const char *raw)
{
    static const char *const below[] = {"__libc_start_main", "__libc_start_call_main",
                                        "generic_start_main", "_start", "(below main)"};
    size_t i;

    if (!raw)
        return LK_FN_NORMAL;
    if (strcmp(raw, "main") == 0)
        return LK_FN_MAIN;
    for (i = 0; i < sizeof below / sizeof below[0]; i++)
        if (strcmp(raw, below[i]) == 0)
            return LK_FN_BELOW_MAIN;
    /* Clones gcc makes of them ("__libc_start_main.isra.0"), but not versioned names: memcheck
     * shows "__libc_start_main@@GLIBC_2.34" as an ordinary function. */
    if (strncmp(raw, "__libc_start_main.", 18) == 0 || strncmp(raw, "generic_start_main.", 19) == 0)
        return LK_FN_BELOW_MAIN;
    return LK_FN_NORMAL;
}

/* What valgrind 3.19 shows at the top of a stack for each allocator entry point, as seen in
 * its own reports: its replacement functions for aligned_alloc and valloc are its memalign;
 * posix_memalign calls its memalign (two frames); reallocarray calls its realloc, and
 * realloc(NULL, n) its malloc (the tracer names that case malloc itself). glibc's __libc_*
 * entry points are replaced by the same functions as the public names. C++ operators keep
 * their own names.
 *
 * Two functions of valgrind's with one name are still two addresses, so two records: the
 * memalign that valloc and posix_memalign reach is not the one memalign and aligned_alloc
 * reach (this shows at --num-callers=1). *group tells them apart. */
size_t lk_entry_frames(const char *entry, const char *names[2], int *group)
{
    static const struct {
        const char *entry, *first, *second;
        int group;
    } map[] = {
        {"__libc_malloc", "malloc", NULL, 0},
        {"__libc_calloc", "calloc", NULL, 0},
        {"__libc_realloc", "realloc", NULL, 0},
        {"reallocarray", "realloc", NULL, 0},
        {"__libc_reallocarray", "realloc", NULL, 0},
        {"__libc_memalign", "memalign", NULL, 0},
        {"aligned_alloc", "memalign", NULL, 0},
        {"__libc_aligned_alloc", "memalign", NULL, 0},
        {"valloc", "memalign", NULL, 1},
        {"__libc_valloc", "memalign", NULL, 1},
        {"posix_memalign", "memalign", "posix_memalign", 1},
        {"__posix_memalign", "memalign", "posix_memalign", 1},
    };
    size_t i;

    *group = 0;
    for (i = 0; entry && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(entry, map[i].entry) == 0) {
            names[0] = map[i].first;
            names[1] = map[i].second;
            *group = map[i].group;
            return map[i].second ? 2 : 1;
        }
    names[0] = entry;
    names[1] = NULL;
    return 1;
}
