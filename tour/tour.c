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
    /* The current section's JSON record, written as it runs: its "values" object, its
     * "conclusions" and "background" arrays, each with a writer of its own. */
    mw__sb_t values_text, conclusions_text, background_text;
    mw__json_t values, conclusions, background;
    bool skipped;
    int unexpected; /* conclusions that contradict the expected lesson, whole tour */
    mw__sb_t page;  /* --html: the sections written so far */
    mw__sb_t body;  /* --html: the current section's body */
    bool in_pre;    /* --html: inside a block of verbatim lines */
    int figures[2]; /* --html: maps and charts drawn */
    struct tour_page_entry toc[TOUR_MAX_SECTIONS]; /* --html: the sections run */
    size_t ntoc;
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

mw__json_t *tour_json(struct tour *t)
{
    return &t->values;
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

/* Prints text wrapped at the tour's width, the first line after first (colour codes in it take
 * no room), the next ones after rest. */
static void print_wrapped(struct tour *t, const char *first, const char *rest, const char *text)
{
    mw__sb_t sb = {0};

    mw__sb_wrap(&sb, text, (size_t)t->opts->width, first, rest);
    if (sb.buf)
        fputs(sb.buf, stdout);
    mw__sb_free(&sb);
}

/* A paragraph: on the terminal wrapped after first and rest, on the page a <p class="cls"> with
 * mark (may be NULL) in bold; nothing in --json mode. */
static void paragraph(struct tour *t, const char *first, const char *rest, const char *cls,
                      const char *mark, const char *text)
{
    if (text_mode(t))
        print_wrapped(t, first, rest, text);
    else if (t->opts->html)
        page_par(t, cls, mark, text);
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
    if (text)
        paragraph(t, "", "", "text", NULL, text);
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
        print_wrapped(t, "", "", text);
        fputs(tour_reset(t), stdout);
    } else if (text && t->opts->html) {
        end_pre(t);
        mw__sb_puts(&t->body, "<h3>");
        mw__sb_xml_str(&t->body, text);
        mw__sb_puts(&t->body, "</h3>\n");
    }
    free(text);
}

void tour_conclude(struct tour *t, bool expected, const char *fmt, ...)
{
    char prefix[64];

    FORMAT(text, fmt);
    if (!text)
        return;
    if (!expected)
        t->unexpected++;
    mw__json_object(&t->conclusions, NULL);
    mw__json_bool(&t->conclusions, "expected", expected);
    mw__json_str(&t->conclusions, "text", text);
    mw__json_end(&t->conclusions);
    const char *mark = expected ? "=>" : "=> (unexpected)";
    snprintf(prefix, sizeof prefix, "%s%s%s ",
             t->opts->color ? (expected ? "\033[1;32m" : "\033[1;33m") : "", mark, tour_reset(t));
    paragraph(t, prefix, "   ", expected ? "concl" : "concl unexpected", mark, text);
    free(text);
}

void tour_note(struct tour *t, const char *fmt, ...)
{
    FORMAT(text, fmt);
    if (text)
        paragraph(t, "   ", "   ", "note", NULL, text);
    free(text);
}

void tour_background(struct tour *t, const char *fmt, ...)
{
    char prefix[64];

    FORMAT(text, fmt);
    if (!text)
        return;
    mw__json_object(&t->background, NULL);
    mw__json_str(&t->background, "text", text);
    mw__json_end(&t->background);
    snprintf(prefix, sizeof prefix, "%s(background)%s ", tour_dim(t), tour_reset(t));
    paragraph(t, prefix, "   ", "bg", "background, not measured:", text);
    free(text);
}

void tour_skip(struct tour *t, const char *fmt, ...)
{
    FORMAT(text, fmt);
    t->skipped = true;
    mw__json_str(&t->values, "skipped", text ? text : "");
    if (text)
        paragraph(t, "skipped: ", "   ", "skip", "skipped:", text);
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

/* Closes a section's part of the record; its text, or NULL when a section misused the writer
 * (a bug: the section is marked failed) or memory ran out. */
static const char *json_part(struct tour *t, mw__json_t *j, mw__sb_t *text)
{
    int err = mw__json_finish(j);

    if (err == -EINVAL)
        tour_error(t, t->section->name, "its JSON record was written wrongly (a bug)");
    return err ? NULL : text->buf;
}

static int run_section(struct tour *t, int index, const struct tour_section *s, mw__json_t *doc)
{
    struct timespec a, b;
    mw__sb_t one = {0};
    mw__json_t j;
    int r;

    t->section = s;
    t->skipped = false;
    mw__json_init(&t->values, &t->values_text);
    mw__json_object(&t->values, NULL);
    mw__json_init(&t->conclusions, &t->conclusions_text);
    mw__json_array(&t->conclusions, NULL);
    mw__json_init(&t->background, &t->background_text);
    mw__json_array(&t->background, NULL);
    heading(t, index, s);
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &a);
    r = s->run(t);
    clock_gettime(CLOCK_MONOTONIC, &b);
    fflush(stdout);
    const char *values = json_part(t, &t->values, &t->values_text);
    const char *conclusions = json_part(t, &t->conclusions, &t->conclusions_text);
    const char *background = json_part(t, &t->background, &t->background_text);
    if (!values || !conclusions || !background)
        r = -1;
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    const char *status = r < 0 ? "failed" : t->skipped ? "skipped" : "ok";
    mw__json_init(&j, &one);
    mw__json_object(&j, NULL);
    mw__json_int(&j, "index", index);
    mw__json_str(&j, "name", s->name);
    mw__json_str(&j, "title", s->title);
    mw__json_str(&j, "status", status);
    mw__json_num(&j, "seconds", round(secs * 1000) / 1000);
    mw__json_raw(&j, "values", values);
    mw__json_raw(&j, "conclusions", conclusions);
    mw__json_raw(&j, "background", background);
    mw__json_end(&j);
    mw__json_raw(doc, NULL, mw__json_finish(&j) == 0 ? one.buf : NULL);
    if (t->opts->html) {
        end_pre(t);
        mw_tour_page_section_end(&t->body, one.buf ? one.buf : "null");
        mw__sb_puts(&t->page, t->body.buf ? t->body.buf : "");
        if (t->body.err)
            t->page.err = t->body.err;
        mw__sb_free(&t->body);
        if (t->ntoc < TOUR_MAX_SECTIONS)
            t->toc[t->ntoc++] = (struct tour_page_entry){index, s->name, s->title};
        fprintf(progress(t), "%s (%.1f s)\n",
                r < 0        ? "failed"
                : t->skipped ? "skipped"
                             : "done",
                secs);
    }
    mw__sb_free(&one);
    mw__sb_free(&t->values_text);
    mw__sb_free(&t->conclusions_text);
    mw__sb_free(&t->background_text);
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
    mw__json_t doc;
    int i, ran = 0, failed = 0, all = 1;

    mw__json_init(&doc, &json);
    mw__json_object(&doc, NULL);
    mw__json_str(&doc, "memwalk_tour", MW_VERSION_STRING);
    mw__json_array(&doc, "sections");
    if (text_mode(&t)) {
        printf("%sA walk on memory, measured live on this machine.%s\n", tour_bold(&t),
               tour_reset(&t));
        print_wrapped(&t, "", "",
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
        if (run_section(&t, i + 1, s, &doc) < 0)
            failed++;
        ran++;
    }
    mw__json_end(&doc);
    mw__json_int(&doc, "unexpected", t.unexpected);
    if (mw__json_finish(&doc) < 0 || t.page.err) {
        mw__sb_free(&json);
        mw__sb_free(&t.page);
        tour_error(&t, NULL, strerror(ENOMEM));
        return -1;
    }
    if (opts->json) {
        printf("%s\n", json.buf);
    } else if (opts->html) {
        int err = mw_tour_page_write(opts->html_file, t.page.buf ? t.page.buf : "", t.toc, t.ntoc,
                                     t.figures);
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
