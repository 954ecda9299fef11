/* The tour's runner: section selection, text and colour, and the JSON record of every value. */
#include "tour/tour.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define WIDTH     100
#define MAX_DEPTH 16

const struct tour_section *const mw_tour_sections[] = {
    &mw_tour_where,      /* 1. where things live */
    &mw_tour_stack,      /* 2. the stack */
    &mw_tour_depth,      /* 3. how deep can it go */
    &mw_tour_stack_heap, /* 4. stack vs heap */
    &mw_tour_python,     /* 5. Python's memory */
    &mw_tour_leaks,      /* 6. leaks */
    &mw_tour_cleanup,    /* 7. cleanup */
    &mw_tour_gc,         /* 8. garbage collection */
    NULL,
};

struct tour {
    const struct tour_options *opts;
    const struct tour_section *section;
    mw__sb_t values;      /* the current section's "values" object, being built */
    mw__sb_t conclusions; /* its "conclusions" array */
    bool first[MAX_DEPTH];
    char closer[MAX_DEPTH];
    int depth;
    bool skipped;
    int unexpected; /* conclusions that contradict the expected lesson, whole tour */
};

const char *tour_bold(struct tour *t)
{
    return t->opts->color ? "\033[1m" : "";
}

const char *tour_dim(struct tour *t)
{
    return t->opts->color ? "\033[2m" : "";
}

const char *tour_reset(struct tour *t)
{
    return t->opts->color ? "\033[0m" : "";
}

const char *tour_self_exe(struct tour *t)
{
    return t->opts->self_exe;
}

static void vline(struct tour *t, const char *prefix, const char *fmt, va_list ap)
{
    if (t->opts->json)
        return;
    fputs(prefix, stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
}

void tour_line(struct tour *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vline(t, "", fmt, ap);
    va_end(ap);
}

void tour_gap(struct tour *t)
{
    if (!t->opts->json)
        fputc('\n', stdout);
}

void tour_sub(struct tour *t, const char *fmt, ...)
{
    va_list ap;

    if (t->opts->json)
        return;
    printf("\n%s", tour_bold(t));
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("%s\n", tour_reset(t));
}

/* Prints text wrapped at WIDTH columns, the first line after prefix, the rest indented. */
static void print_wrapped(const char *prefix, size_t prefix_cols, const char *text)
{
    size_t col = prefix_cols;
    const char *p = text;

    fputs(prefix, stdout);
    while (*p) {
        const char *w = p;
        size_t n;
        while (*w == ' ')
            w++;
        n = strcspn(w, " ");
        if (col > prefix_cols && col + 1 + n > WIDTH) {
            printf("\n%*s", (int)prefix_cols, "");
            col = prefix_cols;
        } else if (col > prefix_cols) {
            fputc(' ', stdout);
            col++;
        }
        fwrite(w, 1, n, stdout);
        col += n;
        p = w + n;
    }
    fputc('\n', stdout);
}

void tour_conclude(struct tour *t, bool expected, const char *fmt, ...)
{
    va_list ap;
    mw__sb_t text = {0};
    char prefix[64];

    va_start(ap, fmt);
    mw__sb_vprintf(&text, fmt, ap);
    va_end(ap);
    if (!text.buf)
        return;
    if (!expected)
        t->unexpected++;
    if (t->conclusions.len > 1)
        mw__sb_putc(&t->conclusions, ',');
    mw__sb_printf(&t->conclusions, "{\"expected\":%s,\"text\":", expected ? "true" : "false");
    mw__sb_json_str(&t->conclusions, text.buf);
    mw__sb_putc(&t->conclusions, '}');
    if (!t->opts->json) {
        snprintf(prefix, sizeof prefix, "%s%s%s ",
                 t->opts->color ? (expected ? "\033[1;32m" : "\033[1;33m") : "",
                 expected ? "=>" : "=> (unexpected)", tour_reset(t));
        print_wrapped(prefix, expected ? 3 : 16, text.buf);
    }
    mw__sb_free(&text);
}

void tour_note(struct tour *t, const char *fmt, ...)
{
    va_list ap;
    mw__sb_t text = {0};

    if (t->opts->json)
        return;
    va_start(ap, fmt);
    mw__sb_vprintf(&text, fmt, ap);
    va_end(ap);
    if (text.buf)
        print_wrapped("   ", 3, text.buf);
    mw__sb_free(&text);
}

void tour_skip(struct tour *t, const char *fmt, ...)
{
    va_list ap;
    mw__sb_t text = {0};

    va_start(ap, fmt);
    mw__sb_vprintf(&text, fmt, ap);
    va_end(ap);
    t->skipped = true;
    tour_json_str(t, "skipped", text.buf ? text.buf : "");
    if (!t->opts->json && text.buf)
        print_wrapped("skipped: ", 9, text.buf);
    mw__sb_free(&text);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void json_key(struct tour *t, const char *key)
{
    if (!t->first[t->depth])
        mw__sb_putc(&t->values, ',');
    t->first[t->depth] = false;
    if (key) {
        mw__sb_json_str(&t->values, key);
        mw__sb_putc(&t->values, ':');
    }
}

void tour_json_int(struct tour *t, const char *key, long long v)
{
    json_key(t, key);
    mw__sb_printf(&t->values, "%lld", v);
}

void tour_json_uint(struct tour *t, const char *key, uint64_t v)
{
    json_key(t, key);
    mw__sb_printf(&t->values, "%llu", (unsigned long long)v);
}

void tour_json_num(struct tour *t, const char *key, double v)
{
    json_key(t, key);
    if (isfinite(v))
        mw__sb_printf(&t->values, "%.6g", v);
    else
        mw__sb_puts(&t->values, "null");
}

void tour_json_str(struct tour *t, const char *key, const char *v)
{
    json_key(t, key);
    if (v)
        mw__sb_json_str(&t->values, v);
    else
        mw__sb_puts(&t->values, "null");
}

void tour_json_bool(struct tour *t, const char *key, bool v)
{
    json_key(t, key);
    mw__sb_puts(&t->values, v ? "true" : "false");
}

void tour_json_raw(struct tour *t, const char *key, const char *json)
{
    json_key(t, key);
    mw__sb_puts(&t->values, json ? json : "null");
}

static void json_push(struct tour *t, const char *key, char open)
{
    json_key(t, key);
    mw__sb_putc(&t->values, open);
    /* Nesting deeper than MAX_DEPTH is a programming error in a section: keep the JSON valid by
     * closing immediately rather than overflowing the stack of closers. */
    if (t->depth + 1 >= MAX_DEPTH) {
        mw__sb_putc(&t->values, open == '{' ? '}' : ']');
        return;
    }
    t->depth++;
    t->first[t->depth] = true;
    t->closer[t->depth] = open == '{' ? '}' : ']';
}

void tour_json_open(struct tour *t, const char *key)
{
    json_push(t, key, '{');
}

void tour_json_array(struct tour *t, const char *key)
{
    json_push(t, key, '[');
}

void tour_json_close(struct tour *t)
{
    if (t->depth == 0)
        return;
    mw__sb_putc(&t->values, t->closer[t->depth]);
    t->depth--;
}

/* ---- running ------------------------------------------------------------------------------- */

static void heading(struct tour *t, int index, const struct tour_section *s)
{
    char rule[WIDTH + 1];
    int n;

    if (t->opts->json)
        return;
    n = snprintf(rule, sizeof rule, "== %d. %s ", index, s->title);
    while (n < WIDTH - 1 && n < (int)sizeof rule - 1)
        rule[n++] = '=';
    rule[n] = '\0';
    printf("\n%s%s%s\n", tour_bold(t), rule, tour_reset(t));
}

static int run_section(struct tour *t, int index, const struct tour_section *s, mw__sb_t *json,
                       bool first)
{
    struct timespec a, b;
    int r;

    t->section = s;
    t->skipped = false;
    t->depth = 0;
    t->first[0] = true;
    mw__sb_putc(&t->values, '{');
    mw__sb_putc(&t->conclusions, '[');
    heading(t, index, s);
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &a);
    r = s->run(t);
    clock_gettime(CLOCK_MONOTONIC, &b);
    fflush(stdout);
    while (t->depth > 0)
        tour_json_close(t);
    mw__sb_putc(&t->values, '}');
    mw__sb_putc(&t->conclusions, ']');
    if (!first)
        mw__sb_putc(json, ',');
    mw__sb_printf(json, "{\"index\":%d,\"name\":", index);
    mw__sb_json_str(json, s->name);
    mw__sb_puts(json, ",\"title\":");
    mw__sb_json_str(json, s->title);
    mw__sb_printf(json, ",\"status\":\"%s\",\"seconds\":%.3f,\"values\":%s,\"conclusions\":%s}",
                  r < 0        ? "failed"
                  : t->skipped ? "skipped"
                               : "ok",
                  (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
                  t->values.buf, t->conclusions.buf);
    mw__sb_free(&t->values);
    mw__sb_free(&t->conclusions);
    return r;
}

int mw_tour_run(const struct tour_options *opts)
{
    struct tour t = {.opts = opts};
    mw__sb_t json = {0};
    int i, ran = 0, failed = 0;

    mw__sb_printf(&json, "{\"memwalk_tour\":\"%s\",\"sections\":[", MW_VERSION_STRING);
    if (!opts->json)
        printf("%sA walk on memory, measured live on this machine.%s\n"
               "Each section runs real experiments; the lines marked => are conclusions drawn\n"
               "from this run's numbers.\n",
               tour_bold(&t), tour_reset(&t));
    for (i = 0; mw_tour_sections[i]; i++) {
        const struct tour_section *s = mw_tour_sections[i];
        if (opts->section && strcmp(opts->section, s->name) != 0)
            continue;
        if (run_section(&t, i + 1, s, &json, ran == 0) < 0)
            failed++;
        ran++;
    }
    mw__sb_printf(&json, "],\"unexpected\":%d}", t.unexpected);
    if (json.err) {
        mw__sb_free(&json);
        mw_cli_error("tour", NULL, "out of memory");
        return MW_EXIT_FAILURE;
    }
    if (opts->json)
        printf("%s\n", json.buf);
    else if (!opts->section)
        printf("\n%d sections, %d conclusion%s that differed from the expected lesson.\n", ran,
               t.unexpected, t.unexpected == 1 ? "" : "s");
    mw__sb_free(&json);
    return failed ? MW_EXIT_FAILURE : MW_EXIT_OK;
}
