/* memwalk show: print where a variable or a pointer's target lives, from inside the program. */
#ifndef MEMWALK_SHOW_H
#define MEMWALK_SHOW_H

/*
 * MW_SHOW(x) prints, on stdout, one line for any lvalue x (its address, like &x):
 *
 *     x: 0xADDR DECIMAL KIND [SECTION] [PATH]
 *
 * KIND is a word of mw_region_kind_name() ("stack", "heap", "bss", "thread-stack", ...), or
 * "gc-heap" for memory that memwalk's garbage collector owns (an object from mw_gc_malloc, which
 * lives in the collector's own chunks rather than in malloc's heap), or "unmapped". SECTION is
 * the ELF section (".bss", ".data", ".rodata", ".text", ...) for addresses inside a loaded
 * object; PATH is the mapping's path when it has one ("[heap]", "/usr/lib/.../libc.so.6"), else
 * what the memory is: the object whose .bss it is (a big .bss goes on past the file, in
 * anonymous pages), or "[anon]" for other anonymous memory (malloc's big blocks, mmap, thread
 * stacks).
 *
 * MW_SHOW_PTR(label, p) does the same for the memory p points to. MW_DIFF(a, b) prints the
 * addresses of two lvalues and the signed distance &b - &a in bytes:
 *
 *     &b - &a: 0x7ffc5e1c0a64 - 0x7ffc5e1c0a60 = 4 bytes
 *
 * The macros never fail loudly: when the map cannot be read the KIND is "?". The process's map
 * is read once and cached; it is read again only when an address falls outside the cached
 * regions or its region changed (checked with the PROCMAP_QUERY ioctl where the kernel has it),
 * so repeated calls are cheap. Thread-safe.
 */

#include <stddef.h>
#include <stdint.h>

/* The facts MW_SHOW prints, for callers that present them their own way. */
typedef struct mw_show_info {
    uintptr_t addr;
    const char *kind; /* static string: a region kind word, "gc-heap" */
    char section[64]; /* "" when not in an ELF section */
    uintptr_t start;  /* the region holding addr */
    uintptr_t end;    /* exclusive */
    char perms[5];    /* "rw-p" */
    int deleted;      /* the mapped file was deleted */
    char path[4096];  /* "" for anonymous memory */
} mw_show_info_t;

/* Describes the memory at addr in the calling process. Returns 0, -ENOENT when addr is not
 * mapped (out untouched), or -ENOMEM / an error from reading /proc/self/maps. */
int mw_show_describe(const void *addr, mw_show_info_t *out);

/* Formats the MW_SHOW line (no newline) into buf, truncated to len like snprintf. Returns the
 * length the full line has. */
int mw_show_format(const char *label, const void *addr, char *buf, size_t len);

/* Prints the MW_SHOW line for addr on stdout. */
void mw_show_print(const char *label, const void *addr);

/* Prints the MW_DIFF line: "LB - LA: 0xB - 0xA = N bytes". */
void mw_show_diff(const char *label_a, const void *a, const char *label_b, const void *b);

/* Drops the cached map (the next call reads it again). */
void mw_show_reset(void);

#define MW_SHOW(x)            mw_show_print(#x, (const void *)&(x))
#define MW_SHOW_PTR(label, p) mw_show_print((label), (const void *)(p))
#define MW_DIFF(a, b)         mw_show_diff("&" #a, (const void *)&(a), "&" #b, (const void *)&(b))

#endif
