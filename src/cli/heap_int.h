/* Internal interfaces of `memwalk heap`: the profile stream of one process (record.h), the
 * stacks massif would show, the massif.out writer, the summary and the SVG timeline. */
#ifndef MEMWALK_CLI_HEAP_INT_H
#define MEMWALK_CLI_HEAP_INT_H

#include <stdint.h>
#include <stdio.h>

#include "cli/leaks_int.h"
#include "leak/record.h"

struct hp_snap {
    mw__prof_snap_t h;
    mw__prof_site_t *sites; /* h.ndetail of them */
};

struct hp_profile {
    mw__prof_head_t h;
    uint64_t **ips; /* per stack, h.ntraces of them: ips[0] is the allocation function itself */
    uint32_t *depth;
    struct hp_snap *snaps; /* h.nsnaps, oldest first */
};

/* Parses a profile stream; returns 0, or -EINVAL when it is malformed or truncated. */
int hp_profile_parse(const unsigned char *buf, size_t len, struct hp_profile *out);
void hp_profile_free(struct hp_profile *p);

/* The frames massif shows of every stack: the allocation function and the --alloc-fn functions
 * under it dropped from the top, everything below main (or below the function that calls main)
 * dropped from the bottom, at most depth frames. */
struct hp_stacks {
    const uint64_t **ips; /* per stack: the first frame shown (a return address) */
    uint32_t *n;          /* how many are shown; 0: none (massif ignores such a block) */
};

struct hp_names {
    const char *const *alloc_fns; /* --alloc-fn names, NULL-terminated (may be NULL) */
    unsigned depth;               /* --depth */
};

int hp_stacks_make(const struct hp_profile *p, lk_sym_t *sym, const struct hp_names *names,
                   struct hp_stacks *out);
void hp_stacks_free(struct hp_stacks *s);

/* ip (a return address) as valgrind describes it, one line per inlined call, innermost first,
 * then the real function: "0xADDR: fn (file:line)", "0xADDR: fn (in module)" or "0xADDR: ???".
 * Returns the number of lines (at least 1, at most max). */
#define HP_LINE 1024
size_t hp_describe(lk_sym_t *sym, uint64_t ip, char (*lines)[HP_LINE], size_t max);

/* One node of massif's tree: the stacks of a snapshot grouped by their frame at one depth. */
struct hp_node {
    uint64_t ip;     /* 0 for the group of stacks below the threshold */
    uint64_t bytes;  /* live bytes under this frame */
    uint32_t places; /* for the below-threshold group: how many groups it merges */
    uint32_t nkids;
    struct hp_node *kids; /* largest first */
};

/* The tree of one detailed snapshot: children significant when they hold at least threshold
 * percent of heap + extra; returns the root (bytes = the heap the tree holds), or NULL when out
 * of memory. */
struct hp_node *hp_tree_make(const struct hp_profile *p, const struct hp_snap *s,
                             const struct hp_stacks *st, double threshold);
void hp_tree_free(struct hp_node *n);

struct hp_massif_opts {
    const char *desc; /* the options massif would list on its desc: line */
    char *const *argv;
    int argc;
    double threshold;
};

/* Writes the profile as massif.out. Returns 0, or -errno. */
int hp_massif_write(FILE *f, const struct hp_profile *p, const struct hp_stacks *st, lk_sym_t *sym,
                    const struct hp_massif_opts *o);

/* The peak snapshot, or the largest detailed one; NULL when none is detailed. */
const struct hp_snap *hp_peak(const struct hp_profile *p);
/* The time unit's name in the file ("B", "ms"). */
const char *hp_unit_name(const struct hp_profile *p);

/* One top site of the peak: the frame that called the allocation function. */
struct hp_site {
    uint64_t ip;
    uint64_t bytes;
    uint32_t trace;     /* its stack holding the most */
    uint64_t top_bytes; /* what that stack holds */
    char label[160];    /* short, for a legend: "fn (file:line)" */
};

/* qsort orders of sites: by first frame; by bytes, largest first (then by frame). */
int hp_site_cmp_ip(const void *a, const void *b);
int hp_site_cmp_bytes(const void *a, const void *b);

/* A site's name: its real function (inlined calls aside) "fn (file:line)", "fn (in module)" or
 * "???". */
const char *hp_site_label(lk_sym_t *sym, uint64_t ip, char *buf, size_t len);

/* The max sites of all[0..n) (malloc'd, freed here) holding the most, largest first, labelled,
 * into out. Returns how many. */
size_t hp_sites_best(struct hp_site *all, size_t n, lk_sym_t *sym, struct hp_site *out, size_t max);

/* The allocation sites (first frames) holding the most at the peak, largest first: at most max
 * of them. Returns how many. */
size_t hp_top_sites(const struct hp_profile *p, const struct hp_stacks *st, lk_sym_t *sym,
                    struct hp_site *out, size_t max);

struct hp_svg_opts {
    const char *title;
    size_t nsites; /* top sites drawn as their own areas (at most 8) */
};

/* A stacked-area timeline of the heap by its top sites, peak marked. Returns 0 or -errno. */
int hp_svg_write(FILE *f, const struct hp_profile *p, const struct hp_stacks *st, lk_sym_t *sym,
                 const struct hp_svg_opts *o);

#endif
