/* The tour's runner: section selection, text and colour, the HTML page, and the JSON record of
 * every value. */
#include "tour/tour.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memwalk/maps.h"
#include "tour/page.h"

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
    mw__sb_t background;  /* its "background" array */
    bool first[MAX_DEPTH];
    char closer[MAX_DEPTH];
    int depth;
    bool skipped;
    int unexpected; /* conclusions that contradict the expected lesson, whole tour */
    mw__sb_t page;  /* --html: the sections written so far */
    mw__sb_t body;  /* --html: the current section's body */
    bool in_pre;    /* --html: inside a block of verbatim lines */
    int figures[2]; /* --html: maps and charts drawn */
    struct tour_shared shared;
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

int tour_width(struct tour *t)
{
    return t->opts->width;
}

bool tour_html(struct tour *t)
{
    return t->opts->html != NULL;
}

struct tour_shared *tour_shared(struct tour *t)
{
    return &t->shared;
}

static void tour_error(struct tour *t, const char *what, const char *reason)
{
    if (t->opts->error)
        t->opts->error(what, reason);
}

/* ---- output: the terminal, or the page ----------------------------------------------------- */

/* Where --html reports its progress: standard error when the page goes to standard output. */
static FILE *progress(struct tour *t)
{
    return t->opts->html && strcmp(t->opts->html, "-") == 0 ? stderr : stdout;
}

static bool text_mode(struct tour *t)
{
    return !t->opts->json && !t->opts->html;
}

static void end_pre(struct tour *t)
{
    if (t->in_pre)
        mw__sb_puts(&t->body, "</pre>\n");
    t->in_pre = false;
}

/* One paragraph of the page: <p class="cls">, a marker in bold, the text. */
static void page_par(struct tour *t, const char *cls, const char *mark, const char *text)
{
    end_pre(t);
    mw__sb_printf(&t->body, "<p class=\"%s\">", cls);
    if (mark) {
        mw__sb_puts(&t->body, "<b>");
        mw__sb_xml_str(&t->body, mark);
        mw__sb_puts(&t->body, "</b> ");
    }
    mw__sb_xml_str(&t->body, text);
    mw__sb_puts(&t->body, "</p>\n");
}

static void emit_line(struct tour *t, const char *text)
{
    if (text_mode(t)) {
        puts(text);
    } else if (t->opts->html) {
        if (!t->in_pre)
            mw__sb_puts(&t->body, "<pre>");
        t->in_pre = true;
        mw__sb_xml_str(&t->body, text);
        mw__sb_putc(&t->body, '\n');
    }
}

/* Prints text wrapped at the tour's width, the first line after prefix (prefix_cols wide on
 * screen: it may hold escape codes), the next ones indented by indent columns. */
static void print_wrapped(struct tour *t, const char *prefix, int prefix_cols, int indent,
                          const char *text)
{
    int col = prefix_cols, width = t->opts->width;
    bool empty = true; /* nothing on this line after its prefix or indent yet */
    const char *p = text;

    fputs(prefix, stdout);
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        int n = (int)strcspn(p, " ");
        if (!empty && col + 1 + n > width) {
            printf("\n%*s", indent, "");
            col = indent;
            empty = true;
        } else if (!empty) {
            fputc(' ', stdout);
            col++;
        }
        fwrite(p, 1, (size_t)n, stdout);
        col += n;
        empty = false;
        p += n;
    }
    fputc('\n', stdout);
}

static char *vformat(const char *fmt, va_list ap)
{
    mw__sb_t sb = {0};

    mw__sb_vprintf(&sb, fmt, ap);
    if (sb.err) {
        mw__sb_free(&sb);
        return NULL;
    }
    return sb.buf ? sb.buf : strdup("");
}

#define FORMAT(var, fmt)         \
    char *var;                   \
    do {                         \
        va_list ap_;             \
        va_start(ap_, fmt);      \
        var = vformat(fmt, ap_); \
        va_end(ap_);             \
    } while (0)

void tour_line(struct tour *t, const char *fmt, ...)
{
    FORMAT(text, fmt);
    if (text)
        emit_line(t, text);
    free(text);
}

void tour_text(struct tour *t, const char *fmt, ...)
{
    FORMAT(text, fmt);
    if (text && text_mode(t))
        print_wrapped(t, "", 0, 0, text);
    else if (text && t->opts->html)
        page_par(t, "text", NULL, text);
    free(text);
}

void tour_gap(struct tour *t)
{
    if (text_mode(t))
        fputc('\n', stdout);
    else if (t->opts->html)
        end_pre(t);
}

void tour_sub(struct tour *t, const char *fmt, ...)
{
    FORMAT(text, fmt);
    if (text && text_mode(t)) {
        printf("\n%s", tour_bold(t));
        print_wrapped(t, "", 0, 0, text);
        fputs(tour_reset(t), stdout);
    } else if (text && t->opts->html) {
        end_pre(t);
        mw__sb_puts(&t->body, "<h3>");
        mw__sb_xml_str(&t->body, text);
        mw__sb_puts(&t->body, "</h3>\n");
    }
    free(text);
}

static void json_array_add(mw__sb_t *arr, const char *obj_start, const char *text)
{
    if (arr->len > 1)
        mw__sb_putc(arr, ',');
    mw__sb_puts(arr, obj_start);
    mw__sb_json_str(arr, text);
    mw__sb_putc(arr, '}');
}

void tour_conclude(struct tour *t, bool expected, const char *fmt, ...)
{
    char prefix[64];

    FORMAT(text, fmt);
    if (!text)
        return;
    if (!expected)
        t->unexpected++;
    json_array_add(
        &t->conclusions,
        expected ? "{\"expected\":true,\"text\":" : "{\"expected\":false,\"text\":", text);
    if (text_mode(t)) {
        snprintf(prefix, sizeof prefix, "%s%s%s ",
                 t->opts->color ? (expected ? "\033[1;32m" : "\033[1;33m") : "",
                 expected ? "=>" : "=> (unexpected)", tour_reset(t));
        print_wrapped(t, prefix, expected ? 3 : 16, 3, text);
    } else if (t->opts->html) {
        page_par(t, expected ? "concl" : "concl unexpected", expected ? "=>" : "=> (unexpected)",
                 text);
    }
    free(text);
}

void tour_note(struct tour *t, const char *fmt, ...)
{
    FORMAT(text, fmt);
    if (text && text_mode(t))
        print_wrapped(t, "   ", 3, 3, text);
    else if (text && t->opts->html)
        page_par(t, "note", NULL, text);
    free(text);
}

void tour_background(struct tour *t, const char *fmt, ...)
{
    char prefix[64];

    FORMAT(text, fmt);
    if (!text)
        return;
    json_array_add(&t->background, "{\"text\":", text);
    if (text_mode(t)) {
        snprintf(prefix, sizeof prefix, "%s(background)%s ", tour_dim(t), tour_reset(t));
        print_wrapped(t, prefix, 13, 3, text);
    } else if (t->opts->html) {
        page_par(t, "bg", "background, not measured:", text);
    }
    free(text);
}

void tour_skip(struct tour *t, const char *fmt, ...)
{
    FORMAT(text, fmt);
    t->skipped = true;
    tour_json_str(t, "skipped", text ? text : "");
    if (text && text_mode(t))
        print_wrapped(t, "skipped: ", 9, 3, text);
    else if (text && t->opts->html)
        page_par(t, "skip", "skipped:", text);
    free(text);
}

void tour_figure(struct tour *t, const char *kind, const char *caption, const char *svg)
{
    const char *p = svg ? strstr(svg, "<svg") : NULL;

    if (!t->opts->html || !p)
        return;
    end_pre(t);
    t->figures[strcmp(kind, "maps") == 0 ? 0 : 1]++;
    mw__sb_printf(&t->body, "<figure class=\"%s\">\n",
                  strcmp(kind, "maps") == 0 ? "maps" : "chart");
    mw__sb_puts(&t->body, p); /* the document without its XML declaration */
    mw__sb_puts(&t->body, "<figcaption>");
    mw__sb_xml_str(&t->body, caption);
    mw__sb_puts(&t->body, "</figcaption></figure>\n");
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
    mw__sb_t rule = {0};

    if (t->opts->html) {
        mw__sb_printf(&t->body, "<section id=\"%s\">\n<h2>%d. ", s->name, index);
        mw__sb_xml_str(&t->body, s->title);
        mw__sb_puts(&t->body, "</h2>\n");
        fprintf(progress(t), "%d. %s ... ", index, s->title);
        fflush(progress(t));
        return;
    }
    if (t->opts->json)
        return;
    mw__sb_printf(&rule, "== %d. %s ", index, s->title);
    while (rule.len < (size_t)t->opts->width - 1 && !rule.err)
        mw__sb_putc(&rule, '=');
    printf("\n%s%s%s\n", tour_bold(t), rule.buf ? rule.buf : "", tour_reset(t));
    mw__sb_free(&rule);
}

static int run_section(struct tour *t, int index, const struct tour_section *s, mw__sb_t *json,
                       bool first)
{
    struct timespec a, b;
    mw__sb_t one = {0};
    int r;

    t->section = s;
    t->skipped = false;
    t->depth = 0;
    t->first[0] = true;
    mw__sb_putc(&t->values, '{');
    mw__sb_putc(&t->conclusions, '[');
    mw__sb_putc(&t->background, '[');
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
    mw__sb_putc(&t->background, ']');
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    mw__sb_printf(&one, "{\"index\":%d,\"name\":", index);
    mw__sb_json_str(&one, s->name);
    mw__sb_puts(&one, ",\"title\":");
    mw__sb_json_str(&one, s->title);
    mw__sb_printf(&one,
                  ",\"status\":\"%s\",\"seconds\":%.3f,\"values\":%s,\"conclusions\":%s,"
                  "\"background\":%s}",
                  r < 0        ? "failed"
                  : t->skipped ? "skipped"
                               : "ok",
                  secs, t->values.buf, t->conclusions.buf, t->background.buf);
    if (!first)
        mw__sb_putc(json, ',');
    mw__sb_puts(json, one.buf ? one.buf : "null");
    if (t->opts->html) {
        end_pre(t);
        mw_tour_page_section_end(&t->body, one.buf ? one.buf : "null");
        mw__sb_puts(&t->page, t->body.buf ? t->body.buf : "");
        if (t->body.err)
            t->page.err = t->body.err;
        mw__sb_free(&t->body);
        fprintf(progress(t), "%s (%.1f s)\n",
                r < 0        ? "failed"
                : t->skipped ? "skipped"
                             : "done",
                secs);
    }
    mw__sb_free(&one);
    mw__sb_free(&t->values);
    mw__sb_free(&t->conclusions);
    mw__sb_free(&t->background);
    return r;
}

/* The map of this process as memwalk maps --svg draws it, in a file the reader can open. */
static void map_file(void)
{
    const char *dir = getenv("TMPDIR");
    mw_maps_t m;
    char path[4096], *svg = NULL;
    FILE *f;

    snprintf(path, sizeof path, "%s/memwalk-tour-%d.svg", dir && *dir ? dir : "/tmp",
             (int)getpid());
    if (mw_maps_read(0, 0, &m) < 0)
        return;
    if (mw_maps_svg(&m, &svg) == 0 && (f = fopen(path, "w"))) {
        int ok = fputs(svg, f) >= 0;
        if (fclose(f) == 0 && ok)
            printf("The address space of this tour's process, drawn by `memwalk maps --svg`:\n"
                   "  %s\n",
                   path);
    }
    free(svg);
    mw_maps_free(&m);
}

static void next_steps(struct tour *t)
{
    (void)t;
    printf("\nNext steps:\n"
           "  memwalk maps --svg map.svg PID   draw any process's address space\n"
           "  memwalk leaks -- ./yourprog      find your program's leaks, valgrind-style\n"
           "  #include <memwalk/gc.h>          mw_gc_malloc(), and never call free\n"
           "     (build: cc prog.c $(pkg-config --cflags --libs memwalk))\n"
           "  memwalk tour --html tour.html    this tour as one page, with its pictures\n"
           "  memwalk bench                    the allocation experiments in full\n");
}

int mw_tour_run(const struct tour_options *opts)
{
    struct tour t = {.opts = opts};
    mw__sb_t json = {0};
    int i, ran = 0, failed = 0, all = 1;

    mw__sb_printf(&json, "{\"memwalk_tour\":\"%s\",\"sections\":[", MW_VERSION_STRING);
    if (text_mode(&t)) {
        printf("%sA walk on memory, measured live on this machine.%s\n", tour_bold(&t),
               tour_reset(&t));
        print_wrapped(&t, "", 0, 0,
                      "Each section runs real experiments; the lines marked => are conclusions "
                      "computed from this run's numbers, and lines marked (background) are what "
                      "the books say, not measured here.");
    } else if (opts->html) {
        fprintf(progress(&t), "memwalk tour: measuring, for %s\n",
                strcmp(opts->html, "-") == 0 ? "standard output" : opts->html);
    }
    for (i = 0; mw_tour_sections[i]; i++) {
        const struct tour_section *s = mw_tour_sections[i];
        if (opts->sections && !(opts->sections & (1u << i))) {
            all = 0;
            continue;
        }
        if (run_section(&t, i + 1, s, &json, ran == 0) < 0)
            failed++;
        ran++;
    }
    mw__sb_printf(&json, "],\"unexpected\":%d}", t.unexpected);
    if (json.err || t.page.err) {
        mw__sb_free(&json);
        mw__sb_free(&t.page);
        tour_error(&t, NULL, strerror(ENOMEM));
        return -1;
    }
    if (opts->json) {
        printf("%s\n", json.buf);
    } else if (opts->html) {
        int err =
            mw_tour_page_write(opts->html_file, t.page.buf ? t.page.buf : "", json.buf, t.figures);
        if (err < 0) {
            tour_error(&t, opts->html, strerror(-err));
            failed++;
        } else if (strcmp(opts->html, "-") != 0) {
            printf("memwalk tour: wrote %s (%d sections, %d maps, %d charts)\n", opts->html, ran,
                   t.figures[0], t.figures[1]);
        }
    } else {
        printf("\n%d section%s, %d conclusion%s that differed from the expected lesson.\n", ran,
               ran == 1 ? "" : "s", t.unexpected, t.unexpected == 1 ? "" : "s");
        if (all) {
            map_file();
            next_steps(&t);
        }
    }
    mw__sb_free(&json);
    mw__sb_free(&t.page);
    return failed ? -1 : 0;
}
