/* The cleanup.h scenarios, each a function returning NULL when it behaves or a message saying what
 * went wrong: the Criterion suite runs them one test each, cleanup_prog runs them all under
 * valgrind. */
#ifndef MW_TEST_CLEANUP_CASES_H
#define MW_TEST_CLEANUP_CASES_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memwalk/cleanup.h>

#define CASE_STR_(x) #x
#define CASE_STR(x)  CASE_STR_(x)
/* Fails the scenario with the condition's text and line. */
#define CASE_CHECK(cond)                                              \
    do {                                                              \
        if (!(cond))                                                  \
            return "line " CASE_STR(__LINE__) ": " #cond " is false"; \
    } while (0)

/* ---- an event log and a counted object type ---------------------------------------------- */

static char case_log[128];
static size_t case_log_len;
static int tokens_live;  /* tokens made and not yet released */
static int tokens_freed; /* releases since the last reset */

static void case_reset(void)
{
    case_log_len = 0;
    case_log[0] = '\0';
    tokens_live = 0;
    tokens_freed = 0;
}

static void case_note(char c)
{
    if (case_log_len + 1 < sizeof case_log) {
        case_log[case_log_len++] = c;
        case_log[case_log_len] = '\0';
    }
}

/* A heap object that writes its name to the log when released. */
typedef struct token {
    char name;
} token;

static token *token_new(char name)
{
    token *t = malloc(sizeof *t);

    if (t) {
        t->name = name;
        tokens_live++;
    }
    return t;
}

static void token_free(token *t)
{
    case_note(t->name);
    tokens_live--;
    tokens_freed++;
    free(t);
}

MW_DEFINE_CLEANUP(token, token_free)

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

/* ---- order ---------------------------------------------------------------------------------- */

static const char *case_reverse_order(void)
{
    case_reset();
    {
        MW_AUTO(token) a = token_new('a');
        MW_AUTO(token) b = token_new('b');
        MW_AUTO(token) c = token_new('c');
        CASE_CHECK(a && b && c);
        CASE_CHECK(tokens_live == 3);
    }
    CASE_CHECK(strcmp(case_log, "cba") == 0);
    CASE_CHECK(tokens_live == 0);
    return NULL;
}

static void note_ptr(void *p)
{
    case_note(*(char *)p);
}

static const char *case_defer_interleaves_with_autos(void)
{
    static char x = 'x', y = 'y';

    case_reset();
    {
        MW_AUTO(token) a = token_new('a');
        MW_DEFER(note_ptr, &x);
        MW_AUTO(token) b = token_new('b');
        MW_DEFER(note_ptr, &y);
        CASE_CHECK(a && b);
    }
    CASE_CHECK(strcmp(case_log, "ybxa") == 0);
    return NULL;
}

/* ---- early return ---------------------------------------------------------------------------- */

static int leave_early(int stop_after)
{
    MW_AUTO(token) a = token_new('a');
    if (stop_after == 1)
        return tokens_live;
    MW_AUTO(token) b = token_new('b');
    if (stop_after == 2)
        return tokens_live;
    MW_AUTO(token) c = token_new('c');
    (void)a, (void)b, (void)c;
    return tokens_live;
}

static const char *case_early_return_releases_what_exists(void)
{
    case_reset();
    CASE_CHECK(leave_early(1) == 1); /* the return value is computed before the cleanups */
    CASE_CHECK(strcmp(case_log, "a") == 0);
    case_reset();
    CASE_CHECK(leave_early(2) == 2);
    CASE_CHECK(strcmp(case_log, "ba") == 0);
    case_reset();
    CASE_CHECK(leave_early(3) == 3);
    CASE_CHECK(strcmp(case_log, "cba") == 0);
    CASE_CHECK(tokens_live == 0);
    return NULL;
}

/* ---- loops ------------------------------------------------------------------------------------
 */

static const char *case_loop_break_and_continue(void)
{
    case_reset();
    for (int i = 0; i < 10; i++) {
        MW_AUTO(token) t = token_new((char)('0' + i));
        CASE_CHECK(t != NULL);
        CASE_CHECK(tokens_live == 1); /* the previous iteration's token is gone */
        if (i == 1)
            continue;
        if (i == 3)
            break;
        case_note('.');
    }
    CASE_CHECK(strcmp(case_log, ".01.23") == 0);
    CASE_CHECK(tokens_live == 0);
    return NULL;
}

static const char *case_while_loop_each_iteration(void)
{
    int n = 0;

    case_reset();
    while (n < 5) {
        mw_autofree char *buf = malloc(64);
        MW_AUTO(token) t = token_new('w');
        CASE_CHECK(buf && t);
        n++;
    }
    CASE_CHECK(tokens_freed == 5);
    CASE_CHECK(tokens_live == 0);
    return NULL;
}

/* ---- nested scopes -----------------------------------------------------------------------------
 */

static const char *case_nested_scopes(void)
{
    case_reset();
    {
        MW_AUTO(token) outer = token_new('o');
        {
            MW_AUTO(token) inner = token_new('i');
            CASE_CHECK(inner != NULL);
        }
        CASE_CHECK(strcmp(case_log, "i") == 0); /* inner released at its own brace */
        CASE_CHECK(tokens_live == 1);
        {
            MW_AUTO(token) second = token_new('s');
            CASE_CHECK(outer && second);
        }
        CASE_CHECK(strcmp(case_log, "is") == 0);
    }
    CASE_CHECK(strcmp(case_log, "iso") == 0);
    return NULL;
}

/* ---- take ------------------------------------------------------------------------------------ */

static token *make_pair_keep_second(void)
{
    MW_AUTO(token) first = token_new('1');
    MW_AUTO(token) second = token_new('2');
    if (!first || !second)
        return NULL;
    return mw_take_ptr(second);
}

static const char *case_taken_pointer_is_not_freed(void)
{
    case_reset();
    token *kept = make_pair_keep_second();
    CASE_CHECK(kept != NULL && kept->name == '2');
    CASE_CHECK(strcmp(case_log, "1") == 0); /* only the one not taken */
    CASE_CHECK(tokens_live == 1);
    token_free(kept);
    CASE_CHECK(tokens_live == 0);
    return NULL;
}

static const char *case_take_resets_variable_and_keeps_type(void)
{
    mw_autofree char *s = strdup("owned");
    const char *cs = "literal";

    CASE_CHECK(s != NULL);
    char *raw = s;
    char *t = mw_take_ptr(s);
    CASE_CHECK(t == raw);
    CASE_CHECK(s == NULL);
    /* The result has the variable's own type, qualifiers included. */
    CASE_CHECK(__builtin_types_compatible_p(__typeof__(mw_take_ptr(s)), char *));
    CASE_CHECK(__builtin_types_compatible_p(__typeof__(mw_take_ptr(cs)), const char *));
    free(t);
    return NULL;
}

static const char *case_take_evaluates_its_argument_once(void)
{
    char a = 'a', b = 'b';
    char *slots[2] = {&a, &b};
    int i = 0;

    char *got = mw_take_ptr(slots[i++]);
    CASE_CHECK(got == &a);
    CASE_CHECK(i == 1);
    CASE_CHECK(slots[0] == NULL && slots[1] == &b);
    return NULL;
}

static int open_null_kept(void)
{
    mw_autoclose int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return mw_take_fd(fd);
}

static const char *case_take_fd_keeps_it_open(void)
{
    int fd = open_null_kept();
    CASE_CHECK(fd >= 0);
    CASE_CHECK(fd_is_open(fd));
    close(fd);

    mw_autoclose int local = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CASE_CHECK(local >= 0);
    int moved = mw_take_fd(local);
    CASE_CHECK(local == -1);
    close(moved);
    return NULL;
}

/* ---- each helper releases, and tolerates the empty value ------------------------------------- */

static const char *case_autoclose_closes(void)
{
    int seen;
    {
        mw_autoclose int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        CASE_CHECK(fd >= 0);
        seen = fd;
        CASE_CHECK(fd_is_open(seen));
    }
    CASE_CHECK(!fd_is_open(seen));
    return NULL;
}

static const char *case_autofclose_closes(void)
{
    int seen;
    {
        mw_autofclose FILE *f = fopen("/dev/null", "re");
        CASE_CHECK(f != NULL);
        seen = fileno(f);
        CASE_CHECK(fd_is_open(seen));
    }
    CASE_CHECK(!fd_is_open(seen));
    return NULL;
}

static const char *case_autoclosedir_closes(void)
{
    int seen;
    {
        mw_autoclosedir DIR *d = opendir("/");
        CASE_CHECK(d != NULL);
        seen = dirfd(d);
        CASE_CHECK(fd_is_open(seen));
    }
    CASE_CHECK(!fd_is_open(seen));
    return NULL;
}

static const char *case_empty_values_are_skipped(void)
{
    case_reset();
    {
        mw_autofree char *p = NULL;
        mw_autoclose int fd = -1;
        mw_autofclose FILE *f = NULL;
        mw_autoclosedir DIR *d = NULL;
        MW_AUTO(token) t = NULL;
        MW_DEFER(note_ptr, (char *)NULL);
        (void)p, (void)fd, (void)f, (void)d, (void)t;
    }
    CASE_CHECK(tokens_freed == 0);
    CASE_CHECK(case_log_len == 0);
    return NULL;
}

static const char *case_cleanups_keep_errno(void)
{
    {
        mw_autoclose int fd = 1000; /* not open: close() fails with EBADF */
        mw_autofree char *p = malloc(16);
        MW_AUTO(token) t = token_new('e');
        CASE_CHECK(p && t && !fd_is_open(fd));
        errno = ENOENT;
    }
    CASE_CHECK(errno == ENOENT);
    return NULL;
}

/* ---- MW_DEFER ----------------------------------------------------------------------------------
 */

static pthread_mutex_t case_lock = PTHREAD_MUTEX_INITIALIZER;

static int locked_section(void)
{
    pthread_mutex_lock(&case_lock);
    MW_DEFER(pthread_mutex_unlock, &case_lock);
    return pthread_mutex_trylock(&case_lock); /* EBUSY: still held inside the scope */
}

static const char *case_defer_unlocks_on_return(void)
{
    CASE_CHECK(locked_section() == EBUSY);
    CASE_CHECK(pthread_mutex_trylock(&case_lock) == 0);
    pthread_mutex_unlock(&case_lock);
    return NULL;
}

static const char *case_defer_takes_argument_at_declaration(void)
{
    static char first = 'f', second = 's';
    char *which = &first;

    case_reset();
    {
        MW_DEFER(note_ptr, which);
        which = &second; /* too late: the argument was captured */
    }
    CASE_CHECK(strcmp(case_log, "f") == 0);
    {
        MW_DEFER(free, malloc(32)); /* freed at scope exit: valgrind sees no leak */
    }
    return NULL;
}

typedef const char *(*case_fn)(void);
static const struct {
    const char *name;
    case_fn fn;
} cleanup_cases[] = {
    {"reverse_order", case_reverse_order},
    {"defer_interleaves_with_autos", case_defer_interleaves_with_autos},
    {"early_return_releases_what_exists", case_early_return_releases_what_exists},
    {"loop_break_and_continue", case_loop_break_and_continue},
    {"while_loop_each_iteration", case_while_loop_each_iteration},
    {"nested_scopes", case_nested_scopes},
    {"taken_pointer_is_not_freed", case_taken_pointer_is_not_freed},
    {"take_resets_variable_and_keeps_type", case_take_resets_variable_and_keeps_type},
    {"take_evaluates_its_argument_once", case_take_evaluates_its_argument_once},
    {"take_fd_keeps_it_open", case_take_fd_keeps_it_open},
    {"autoclose_closes", case_autoclose_closes},
    {"autofclose_closes", case_autofclose_closes},
    {"autoclosedir_closes", case_autoclosedir_closes},
    {"empty_values_are_skipped", case_empty_values_are_skipped},
    {"cleanups_keep_errno", case_cleanups_keep_errno},
    {"defer_unlocks_on_return", case_defer_unlocks_on_return},
    {"defer_takes_argument_at_declaration", case_defer_takes_argument_at_declaration},
};

#endif
