/* The tour's shared machinery: sections, text output (colour only on a terminal) and the JSON
 * record that carries every value a section measured. */
#ifndef MEMWALK_TOUR_H
#define MEMWALK_TOUR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"

struct tour;

struct tour_section {
    const char *name;  /* --section NAME */
    const char *title; /* shown as the heading */
    /* Runs the experiments and prints them. Returns 0, or -1 when the section could not run at
     * all (it has said why through tour_skip or tour_conclude). */
    int (*run)(struct tour *t);
};

/* Every section, in tour order; defined in tour.c. */
extern const struct tour_section *const mw_tour_sections[];

#define TOUR_MAX_SECTIONS 32

struct tour_options {
    uint32_t sections; /* bit i: run section i + 1; 0 = all */
    bool json;
    bool color;
    int width;            /* text columns: 80, more with --wide or a wider terminal */
    const char *html;     /* --html FILE ('-': standard output), or NULL */
    FILE *html_file;      /* opened before anything runs */
    const char *self_exe; /* this memwalk binary, for sections that run it */
    /* Reports an error that spoils the run (out of memory, the page cannot be written): what it
     * concerns (a file name, or NULL) and why. The caller prints it its own way. */
    void (*error)(const char *what, const char *reason);
};

/* Runs the tour. Returns 0, or -1 when a section failed or the output could not be made (the
 * latter said through opts->error). */
int mw_tour_run(const struct tour_options *opts);

/* Text output (suppressed in --json mode; in --html mode it goes to the page). tour_line prints
 * one line as it is (tables, program output: keep them within tour_width); tour_text wraps a
 * paragraph to the width. */
void tour_line(struct tour *t, const char *fmt, ...) MW__PRINTF(2, 3);
void tour_text(struct tour *t, const char *fmt, ...) MW__PRINTF(2, 3);
/* A blank line between parts of a section. */
void tour_gap(struct tour *t);
/* A remark after a conclusion, indented and wrapped to the tour's width. */
void tour_note(struct tour *t, const char *fmt, ...) MW__PRINTF(2, 3);
/* Background: what the textbook or the documentation says, which this run did not measure. It is
 * shown apart from the conclusions ("(background)"), never with "=>". */
void tour_background(struct tour *t, const char *fmt, ...) MW__PRINTF(2, 3);
/* A sub-heading inside a section. */
void tour_sub(struct tour *t, const char *fmt, ...) MW__PRINTF(2, 3);
/* The section's conclusion, computed from this run's values. expected says whether they agree
 * with the lesson the section teaches; when they do not, the text must say what was observed. */
void tour_conclude(struct tour *t, bool expected, const char *fmt, ...) MW__PRINTF(3, 4);
/* Marks the section as skipped, with the reason. */
void tour_skip(struct tour *t, const char *fmt, ...) MW__PRINTF(2, 3);
/* A picture for the HTML page (an SVG document, copied): kind is "maps" or "chart". Text and JSON
 * output leave it out. */
void tour_figure(struct tour *t, const char *kind, const char *caption, const char *svg);
/* Whether the page is being made (sections may then draw figures). */
bool tour_html(struct tour *t);
/* Colour helpers: return the escape sequence, or "" without colour. */
const char *tour_bold(struct tour *t);
const char *tour_dim(struct tour *t);
const char *tour_reset(struct tour *t);
const char *tour_self_exe(struct tour *t);
int tour_width(struct tour *t);

/* Values one section measures and another compares with (the C stack depth of section 3 in the
 * Python section). have_* is false until measured. */
struct tour_shared {
    bool have_c_depth;
    uint64_t c_depth;     /* calls before the stack overflowed */
    double c_frame_bytes; /* bytes per frame of that recursion */
    uint64_t c_limit;     /* the stack limit it ran under */
};
struct tour_shared *tour_shared(struct tour *t);

/* The JSON record of the current section's "values" object (an object open at the top): sections
 * write every value they measured with the mw__json_* calls (keys unique within an object). */
mw__json_t *tour_json(struct tour *t);

/* An address as a number: the datum these experiments record. */
static inline uintptr_t address_of(const volatile void *p)
{
    return (uintptr_t)p;
}

static inline uintptr_t stack_pointer(void)
{
    uintptr_t sp;
#if defined(__x86_64__)
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
#elif defined(__aarch64__)
    __asm__ volatile("mov %0, sp" : "=r"(sp));
#else
    sp = (uintptr_t)__builtin_frame_address(0);
#endif
    return sp;
}

/* The C recursion of section 3, run in a child; for sections that need the figure when section 3
 * did not run. Returns 0 and fills the tour_shared fields, or -errno. */
int tour_depth_measure(struct tour *t);

/* The sections. */
extern const struct tour_section mw_tour_where, mw_tour_stack, mw_tour_depth, mw_tour_stack_heap,
    mw_tour_python, mw_tour_leaks, mw_tour_cleanup, mw_tour_gc;

#endif
