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

/* A bounded reader over bytes: lk_take copies n bytes out and advances, or returns -1 when fewer
 * are left. */
struct lk_cursor {
    const unsigned char *p, *end;
};
int lk_take(struct lk_cursor *c, void *out, size_t n);

/* Parses a result stream; returns 0 or -EINVAL when it is malformed or truncated. */
int lk_result_parse(const unsigned char *buf, size_t len, struct lk_result *out);
void lk_result_free(struct lk_result *r);

/* One printed stack line: a frame, or one of the inlined frames at the same address. */
struct lk_frame {
    uint64_t ip;        /* as memcheck prints it: a return address less one */
    const char *fn;     /* as printed (C++ demangled); NULL when unknown */
    const char *fn_raw; /* as suppressions name it: mangled, or DWARF's name for inlined code */
    const char *file;   /* base name, NULL when no line info */
    int line;
    const char *module; /* the object's path as the kernel names it; NULL when in none */
    uint64_t offset;    /* ip - module bias */
    int mod;            /* index of the module, -1 when none */
    int has_debug;      /* the module has DWARF line info */
    int inlined;        /* an inlined call: more frames at the same address follow */
    int kind;           /* LK_FN_*: what memcheck's stack trimming sees */
};

enum { LK_FN_NORMAL, LK_FN_MAIN, LK_FN_BELOW_MAIN };

typedef struct lk_sym lk_sym_t;
/* A symbolizer for the modules of one process. cache_dir: where symbolized addresses are kept
 * per build-id between runs (NULL: nowhere). */
lk_sym_t *lk_sym_new(const struct lk_module *mods, size_t n, const char *cache_dir);
/* Describes ip (a return address unless first) as one or more frames, innermost first, with
 * file:line from DWARF when there is some. The strings stay valid until lk_sym_free. Returns
 * the number of frames written (>= 1). */
size_t lk_sym_lookup(lk_sym_t *s, uint64_t ip, int first, struct lk_frame *out, size_t max);
/* Describes ip by its ELF symbol alone (no DWARF is read): one frame. */
void lk_sym_symbol(lk_sym_t *s, uint64_t ip, int first, struct lk_frame *out);
/* The path of module i as frames print it. */
const char *lk_sym_module_name(lk_sym_t *s, size_t i);
/* Keeps what was symbolized in the cache, then frees everything. */
void lk_sym_free(lk_sym_t *s);

/* The symbol cache directory: $MEMWALK_SYMBOL_CACHE, else $XDG_CACHE_HOME/memwalk/symbols,
 * else ~/.cache/memwalk/symbols; NULL when turned off ("off" or "0"). Static storage. */
const char *lk_cache_dir(void);

/* memcheck's choice among the names of one address (aliases): true when a is preferred. */
int lk_sym_prefer(const char *a, const char *b);
/* LK_FN_* for a raw function name, as memcheck classifies it. */
int lk_fn_kind(const char *raw);

/* The frames memcheck shows for an allocation made through the tracer entry point named
 * entry (the preload's symbol at frame 0): memcheck's function names, outermost last; *group
 * tells apart two functions of memcheck's with the same name. Returns their count (1 or 2). */
size_t lk_entry_frames(const char *entry, const char *names[2], int *group);

/* What an object file says of itself, read without libdw. */
struct lk_elf_info {
    unsigned char build_id[64];
    size_t build_id_len; /* 0: none */
    int has_dwarf;       /* carries its own .debug_info */
    char debuglink[256]; /* .gnu_debuglink's file name, "" when none */
};
/* Probes the ELF file at path; returns 0 or -errno (-ENOEXEC: not a 64-bit ELF file). */
int lk_elf_probe(const char *path, struct lk_elf_info *out);
/* Writes n bytes as lower-case hex and a NUL to out (2n+1 bytes). */
void lk_hex(const unsigned char *b, size_t n, char *out);
/* The separate debug file of the object at path: the build-id directory, then the debuglink
 * name next to it, in .debug/ and under /usr/lib/debug. Returns 0 with its path, or -ENOENT. */
int lk_debug_file(const char *path, const struct lk_elf_info *e, char *out, size_t len);
/* Names the debug information of the object ("self", a file with its size and time, "none");
 * -ENOENT when it cannot be told (a debuginfod server may provide it). */
int lk_debug_signature(const char *path, const struct lk_elf_info *e, char *out, size_t len);

/* The symbol cache of one object (a file per build-id in the cache directory). Keys are
 * chosen by the symbolizer; frames keep fn, fn_raw, file, line, inlined and kind. */
typedef struct lk_symcache lk_symcache_t;
lk_symcache_t *lk_symcache_open(const char *dir, const char *id, const char *sig, int has_debug);
/* The frames stored under key (owned by the cache), or 0. */
size_t lk_symcache_get(lk_symcache_t *c, uint64_t key, const struct lk_frame **out);
void lk_symcache_put(lk_symcache_t *c, uint64_t key, const struct lk_frame *f, size_t n);
/* Saves the file when entries were added, then frees c. */
void lk_symcache_close(lk_symcache_t *c);

/* Suppressions in memcheck's format (only Memcheck:Leak entries apply). */
typedef struct lk_supp lk_supp_t;
/* Parses one file into *s (created on first call); returns 0 or -errno, with a message in err. */
int lk_supp_load(lk_supp_t **s, const char *path, char *err, size_t errlen);
/* Frame i of a stack, innermost first, or NULL past its end: stacks are symbolized only as far
 * as a suppression looks. */
typedef const struct lk_frame *(*lk_frame_at_fn)(void *ctx, size_t i);
/* 1 + the index of the first suppression the stack of a record of kind matches, 0 when none
 * does (the report counts what each one hid). */
int lk_supp_match(lk_supp_t *s, lk_frame_at_fn at, void *ctx, unsigned kind);
/* The same for a stack already in an array. */
int lk_supp_match_frames(lk_supp_t *s, const struct lk_frame *frames, size_t n, unsigned kind);
/* How many suppressions were loaded; suppression i's name, file (as given) and the line of its
 * name, for memcheck's used_suppression lines. */
size_t lk_supp_count(const lk_supp_t *s);
void lk_supp_where(const lk_supp_t *s, size_t i, const char **name, const char **file, int *line);
void lk_supp_free(lk_supp_t *s);

/* Parses "definite,indirect,possible,reachable", "all" or "none" into a kind mask. */
int lk_parse_kinds(const char *s, unsigned *mask);

/* Appends one argument of a command line as memcheck's Command: line shows it. */
void lk_command_arg(mw__sb_t *sb, const char *arg);

/* Formats v with thousands separators, as memcheck prints counts ("1,040"). */
const char *lk_commas(uint64_t v, char *buf, size_t len);

struct lk_report_opts {
    unsigned show;   /* kinds whose loss records are printed */
    unsigned errors; /* kinds that count as errors */
    int full;        /* --leak-check=full (else summary) */
    int error_list;  /* -s: the error contexts listed again at the end, with their counts */
    int num_callers; /* frames per stack, as memcheck counts them; records equal so far merge */
    const char *cache_dir;
    lk_supp_t *supp;
};

struct lk_report_stats {
    uint64_t errors, contexts, supp_errors, supp_contexts;
    uint32_t last_thread; /* of the last error printed (memcheck's "Thread N:" lines) */
};

/* Prints a stack of the tracer's (entry: frame 0 is its entry point) as the loss records' stacks
 * print, to out when not NULL, and as a JSON array (member key) to json when not NULL. Returns
 * the frames. */
size_t lk_report_stack(FILE *out, int pid, lk_sym_t *sym, const uint64_t *ips, uint32_t depth,
                       int entry, mw__json_t *json, const char *key);

/* Prints the report of one process to out, each line prefixed "==pid== "; writes the same facts
 * as a JSON object to json when non-NULL. */
void lk_report_print(FILE *out, const struct lk_result *r, const struct lk_report_opts *o,
                     mw__json_t *json, struct lk_report_stats *st);

#endif
