/* Leak suppressions in memcheck's file format, so existing valgrind suppression files work:
 *
 *   {
 *      name
 *      Memcheck:Leak
 *      match-leak-kinds: definite,possible      (optional; default: every kind)
 *      fun:make_*                                (a function name, wildcards * and ?)
 *      obj:/usr/lib/x86_64-linux-gnu/libfoo.so*  (a module path)
 *      src:foo.c:42                              (a source file, and line if given)
 *      ...                                       (any number of frames, none included)
 *   }
 *
 * Frames are matched from the allocation function down (frame 0 is malloc, calloc, ...); a
 * suppression with fewer frames than the stack matches its beginning. As memcheck, fun: lines
 * name functions as the symbol table does (C++ names mangled, "_Znwm"), inlined calls as DWARF
 * does ("push_back"), and the start-up code "(below main)"; the stack is the whole recorded
 * one, not cut at main. Entries for other tools or error kinds are read and ignored. Lines
 * starting with # are comments. */
#include "cli/leaks_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { F_FUN, F_OBJ, F_SRC, F_ANY };

struct frame_pat {
    int type;
    char *pat;
    int line; /* src: only; 0: any */
};

struct supp {
    char *name;
    char *file; /* as given to --suppressions */
    int line;   /* of the name */
    unsigned kinds;
    struct frame_pat *f;
    size_t nf;
};

struct lk_supp {
    struct supp *s;
    size_t n, cap;
};

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Glob match with * and ?. */
static int glob(const char *p, const char *s)
{
    const char *star = NULL, *ss = NULL;

    while (*s) {
        if (*p == '*') {
            star = p++;
            ss = s;
        } else if (*p == '?' || *p == *s) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++ss;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static void free_supp(struct supp *s)
{
    size_t i;

    for (i = 0; i < s->nf; i++)
        free(s->f[i].pat);
    free(s->f);
    free(s->name);
    free(s->file);
}

int lk_supp_load(lk_supp_t **sp, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char buf[4096];
    int lineno = 0, state = 0; /* 0 outside, 1 want name, 2 want kind, 3 frames */
    struct supp cur;
    int applies = 0;
    lk_supp_t *s = *sp;

    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s", strerror(e));
        return -e;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) {
            fclose(f);
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        *sp = s;
    }
    memset(&cur, 0, sizeof cur);
    while (fgets(buf, sizeof buf, f)) {
        char *l = trim(buf);
        lineno++;
        if (*l == '#' || (*l == '\0' && state != 3))
            continue;
        if (state == 0) {
            if (strcmp(l, "{") != 0)
                goto syntax;
            memset(&cur, 0, sizeof cur);
            cur.kinds = LK_KIND_ALL;
            state = 1;
        } else if (state == 1) {
            if (strcmp(l, "}") == 0 || strcmp(l, "{") == 0)
                goto syntax;
            cur.name = strdup(l);
            cur.file = strdup(path);
            cur.line = lineno;
            state = 2;
        } else if (state == 2) {
            char *colon = strrchr(l, ':'), *tools = l;
            if (!colon)
                goto syntax;
            *colon = '\0';
            applies = strcmp(colon + 1, "Leak") == 0 && strstr(tools, "Memcheck") != NULL;
            state = 3;
        } else if (strcmp(l, "}") == 0) {
            if (applies && cur.nf > 0) {
                if (s->n == s->cap) {
                    size_t ncap = s->cap ? s->cap * 2 : 16;
                    struct supp *n = realloc(s->s, ncap * sizeof *n);
                    if (!n) {
                        free_supp(&cur);
                        fclose(f);
                        snprintf(err, errlen, "out of memory");
                        return -ENOMEM;
                    }
                    s->s = n;
                    s->cap = ncap;
                }
                s->s[s->n++] = cur;
            } else {
                free_supp(&cur);
            }
            memset(&cur, 0, sizeof cur);
            state = 0;
        } else if (strncmp(l, "match-leak-kinds:", 17) == 0) {
            if (lk_parse_kinds(trim(l + 17), &cur.kinds) < 0) {
                snprintf(err, errlen, "line %d: bad match-leak-kinds: %s", lineno, l + 17);
                free_supp(&cur);
                fclose(f);
                return -EINVAL;
            }
        } else {
            struct frame_pat fp = {0};
            struct frame_pat *nf;
            if (strncmp(l, "fun:", 4) == 0) {
                fp.type = F_FUN;
                fp.pat = strdup(l + 4);
            } else if (strncmp(l, "obj:", 4) == 0) {
                fp.type = F_OBJ;
                fp.pat = strdup(l + 4);
            } else if (strcmp(l, "...") == 0) {
                fp.type = F_ANY;
                fp.pat = NULL;
            } else if (strncmp(l, "src:", 4) == 0) {
                char *colon;
                fp.type = F_SRC;
                fp.pat = strdup(l + 4);
                colon = fp.pat ? strchr(fp.pat, ':') : NULL;
                if (colon) {
                    *colon = '\0';
                    fp.line = atoi(colon + 1);
                }
            } else {
                goto syntax;
            }
            nf = realloc(cur.f, (cur.nf + 1) * sizeof *nf);
            if (!nf) {
                free(fp.pat);
                goto syntax;
            }
            cur.f = nf;
            cur.f[cur.nf++] = fp;
        }
    }
    fclose(f);
    if (state != 0) {
        snprintf(err, errlen, "line %d: unterminated suppression (missing '}')", lineno);
        free_supp(&cur);
        return -EINVAL;
    }
    return 0;
syntax:
    snprintf(err, errlen, "line %d: not a suppression: '%s'", lineno, trim(buf));
    free_supp(&cur);
    fclose(f);
    return -EINVAL;
}

static int frame_matches(const struct frame_pat *p, const struct lk_frame *f)
{
    const char *name;

    switch (p->type) {
    case F_FUN:
        name = f->fn_raw ? f->fn_raw : "???";
        if (glob(p->pat, name))
            return 1;
        /* Under valgrind, glibc starts threads with clone (valgrind refuses clone3): its
         * suppressions end in fun:clone where a program here runs clone3. */
        return (strcmp(name, "clone3") == 0 || strcmp(name, "__clone3") == 0) &&
               glob(p->pat, "clone");
    case F_OBJ:
        return glob(p->pat, f->module ? f->module : "???");
    case F_SRC:
        return f->file && glob(p->pat, f->file) && (p->line == 0 || p->line == f->line);
    default:
        return 1;
    }
}

/* Where a program's start-up code has no unwind information, memcheck goes on past it with
 * frames found by scanning the stack (valgrind writes them "obj:*"); our stack ends there. A
 * suppression whose remaining lines all match anything still matches. */
static int only_wildcards(const struct supp *s, size_t pi)
{
    for (; pi < s->nf; pi++)
        if (s->f[pi].type != F_ANY && strcmp(s->f[pi].pat, "*") != 0)
            return 0;
    return 1;
}

static int match_from(const struct supp *s, size_t pi, lk_frame_at_fn at, void *ctx, size_t fi)
{
    for (; pi < s->nf; pi++, fi++) {
        const struct frame_pat *p = &s->f[pi];
        const struct lk_frame *f;
        if (p->type == F_ANY) {
            size_t k;
            if (pi + 1 == s->nf)
                return 1;
            for (k = fi;; k++) {
                if (match_from(s, pi + 1, at, ctx, k))
                    return 1;
                if (!at(ctx, k))
                    return 0;
            }
        }
        f = at(ctx, fi);
        if (!f)
            return only_wildcards(s, pi);
        if (!frame_matches(p, f))
            return 0;
    }
    return 1;
}

size_t lk_supp_count(const lk_supp_t *s)
{
    return s ? s->n : 0;
}

void lk_supp_where(const lk_supp_t *s, size_t i, const char **name, const char **file, int *line)
{
    *name = s->s[i].name ? s->s[i].name : "";
    *file = s->s[i].file ? s->s[i].file : "";
    *line = s->s[i].line;
}

int lk_supp_match(lk_supp_t *s, lk_frame_at_fn at, void *ctx, unsigned kind)
{
    size_t i;

    if (!s)
        return 0;
    for (i = 0; i < s->n; i++)
        if ((s->s[i].kinds & (1u << kind)) && match_from(&s->s[i], 0, at, ctx, 0)) {
            return (int)i + 1;
        }
    return 0;
}

struct frame_array {
    const struct lk_frame *f;
    size_t n;
};

static const struct lk_frame *array_at(void *ctx, size_t i)
{
    const struct frame_array *a = ctx;

    return i < a->n ? &a->f[i] : NULL;
}

int lk_supp_match_frames(lk_supp_t *s, const struct lk_frame *frames, size_t n, unsigned kind)
{
    struct frame_array a = {frames, n};

    return lk_supp_match(s, array_at, &a, kind);
}

void lk_supp_free(lk_supp_t *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->n; i++)
        free_supp(&s->s[i]);
    free(s->s);
    free(s);
}
