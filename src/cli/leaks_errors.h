/* `memwalk leaks`: bad frees and open file descriptors (issue 12, points 1 and 2), printed as
 * memcheck prints them: the result stream's sections after the fault stack (record.h), the LIVE
 * messages a traced process sends while it runs, and the facts from object files that describe
 * an address (data symbols, sections, function starts). */
#ifndef MEMWALK_CLI_LEAKS_ERRORS_H
#define MEMWALK_CLI_LEAKS_ERRORS_H

#include <stdint.h>
#include <stdio.h>

#include "cli/leaks_int.h"

/* The sections of one result: error contexts and the descriptors open at exit. */
struct lk_sections {
    mw__leak_error_t *errs;
    char **err_paths; /* NUL-terminated copies */
    uint32_t nerrs;
    int have_fds;
    mw__leak_fds_t fdh;
    mw__leak_fd_t *fds;
    char **fd_names;
    uint32_t nfds;
};

/* The next n bytes of c (leaks_int.h's bounded reader, lk_take for plain copies) as a
 * NUL-terminated string the caller frees, and c moved past them; NULL when fewer are left or
 * memory is short. */
char *lk_rd_str(struct lk_cursor *c, size_t n);

/* Parses the sections in [p, p + len) into r->sect (NULL when there are none); unknown sections
 * are skipped. Returns 0, or -EINVAL when one is malformed. */
int lk_sections_parse(const unsigned char *p, size_t len, struct lk_result *r);
void lk_sections_free(struct lk_result *r);

/* Prints the error contexts of r that were not printed while the program ran, and adds every
 * context (inherited ones too, as memcheck counts them) to st's errors and contexts. */
void lk_errors_report(FILE *out, const struct lk_result *r, lk_sym_t *sym,
                      struct lk_report_stats *st);
/* memcheck's -s: every error context of r again (st: the totals, the last thread printed), the
 * fewest errors first. Returns how many were listed. */
uint32_t lk_errors_list(FILE *out, const struct lk_result *r, lk_sym_t *sym,
                        struct lk_report_stats *st);
/* Appends ,"error_contexts":[...] to a process's JSON object. */
void lk_errors_json(mw__json_t *j, const struct lk_result *r, lk_sym_t *sym);

/* One LIVE message of process pid (record.h): chunks are kept until the last, then a new error
 * context is printed to out at once. Returns 0, or -1 when the stream is malformed. */
int lk_live_message(FILE *out, int pid, const unsigned char *payload, size_t len, uint16_t flags);

/* memcheck's FILE DESCRIPTORS block (--track-fds), before HEAP SUMMARY; and its JSON. */
void lk_fds_report(FILE *out, const struct lk_result *r, lk_sym_t *sym);
void lk_fds_json(mw__json_t *j, const struct lk_result *r, lk_sym_t *sym);

/* ---- object files (leaks_objinfo.c): what an address of a loaded object is --------------- */
/* memcheck's data symbol holding the object-file address a: its name (static storage until
 * lk_obj_forget) and *off, or NULL. */
const char *lk_obj_datasym(const char *path, uint64_t a, uint64_t *off);
/* memcheck's word for the section holding a ("Text", "Data", "BSS", "GOT", "PLT", "GOTPLT",
 * "OPD"), or NULL for any other. */
const char *lk_obj_sectkind(const char *path, uint64_t a);
/* The start of the function holding a, from the symbol table; 0 when unknown. */
uint64_t lk_obj_func_start(const char *path, uint64_t a);
void lk_obj_forget(void);

#endif
