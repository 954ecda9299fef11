/* Internal interfaces of `memwalk leaks`: the parsed result of one traced process, the
 * symbolizer, suppressions and the memcheck-style report. */
#ifndef MEMWALK_CLI_LEAKS_INT_H
#define MEMWALK_CLI_LEAKS_INT_H

#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "leak/record.h"

#define LK_KIND_ALL 0xfu

struct lk_module {
    uint64_t bias, lo, hi;
    char *path;
};

struct lk_result {
    mw__leak_result_t h;
    struct lk_module *mods;
    uint64_t **trace_ips;
    uint32_t *trace_depth;
    mw__leak_lossrec_t *recs;
    uint64_t *fault;
    struct lk_sections *sect; /* what follows the fault stack (leaks_errors.h), or NULL */
};

/* Parses a result stream; returns 0 or -EINVAL when it is malformed or truncated. */
int lk_result_parse(const unsigned char *buf, size_t len, struct lk_result *out);
void lk_result_free(struct lk_result *r);

/* One printed stack line: a frame, or one of the inlined frames at the same address. */
struct lk_frame {
    uint64_t ip;
    const char *fn;   /* NULL when unknown */
    const char *file; /* base name, NULL when no line info */
    int line;
    const char *module; /* NULL when in no known module */
    uint64_t offset;    /* ip - module bias */
    int has_debug;      /* the module has DWARF line info */
};

typedef struct lk_sym lk_sym_t;
lk_sym_t *lk_sym_new(const struct lk_module *mods, size_t n);
/* Describes ip (a return address unless first) as one or more frames, innermost first. The
 * strings stay valid until lk_sym_free. Returns the number of frames written (>= 1). */
size_t lk_sym_lookup(lk_sym_t *s, uint64_t ip, int first, struct lk_frame *out, size_t max);
void lk_sym_free(lk_sym_t *s);

/* Suppressions in memcheck's format (only Memcheck:Leak entries apply). */
typedef struct lk_supp lk_supp_t;
/* Parses one file into *s (created on first call); returns 0 or -errno, with a message in err. */
int lk_supp_load(lk_supp_t **s, const char *path, char *err, size_t errlen);
/* True when frames (innermost first) of a record of kind match a suppression; the matched
 * suppression's use count is incremented. */
int lk_supp_match(lk_supp_t *s, const struct lk_frame *frames, size_t n, unsigned kind);
void lk_supp_free(lk_supp_t *s);

/* Parses "definite,indirect,possible,reachable", "all" or "none" into a kind mask. */
int lk_parse_kinds(const char *s, unsigned *mask);

/* Formats v with thousands separators, as memcheck prints counts ("1,040"). */
const char *lk_commas(uint64_t v, char *buf, size_t len);

struct lk_report_opts {
    unsigned show;   /* kinds whose loss records are printed */
    unsigned errors; /* kinds that count as errors */
    int full;        /* --leak-check=full (else summary) */
    lk_supp_t *supp;
};

struct lk_report_stats {
    uint64_t errors, contexts, supp_errors, supp_contexts;
};

/* Prints a stack of the tracer's (entry: frame 0 is its entry point) as the loss records' stacks
 * print, to out when not NULL, and as a JSON array to json when not NULL. Returns the frames. */
size_t lk_report_stack(FILE *out, int pid, lk_sym_t *sym, const uint64_t *ips, uint32_t depth,
                       int entry, mw__sb_t *json);

/* Prints the report of one process to out, each line prefixed "==pid== "; appends a JSON
 * object to json when non-NULL. */
void lk_report_print(FILE *out, const struct lk_result *r, const struct lk_report_opts *o,
                     mw__sb_t *json, struct lk_report_stats *st);

#endif
