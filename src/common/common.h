/* Small internal helpers shared by libmemwalk and the memwalk command: number parsing, a growable
 * string buffer, whole-file reads. Not for the preload (they allocate). */
#ifndef MEMWALK_COMMON_H
#define MEMWALK_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MW__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MW__MIN(a, b)    ((a) < (b) ? (a) : (b))
#define MW__MAX(a, b)    ((a) > (b) ? (a) : (b))
#define MW__UNUSED       __attribute__((unused))
#define MW__PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Parses an unsigned 64-bit number: "0x..." hex or plain decimal, no sign, no trailing text.
 * Returns 0, -EINVAL (not a number) or -ERANGE (over 64 bits); *out written only on success. */
int mw__parse_u64(const char *s, uint64_t *out);

/* The value of one hexadecimal digit (either case), or -1. Inline: parsers call it per byte. */
static inline int mw__hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Like mw__parse_u64 with base 16 only and no prefix (the text of /proc files). */
int mw__parse_hex(const char *s, const char **end, uint64_t *out);

/* Parses a process id: decimal, 1..INT_MAX; "self" gives 0. Returns 0 or -EINVAL / -ERANGE. */
int mw__parse_pid(const char *s, pid_t *out);

/* Parses a size with an optional K/M/G suffix (powers of 1024). Returns 0, -EINVAL or -ERANGE. */
int mw__parse_size(const char *s, uint64_t *out);

/* A growable NUL-terminated string. After a failed allocation the buffer keeps its old contents
 * and sets err; later appends do nothing, so callers check err once at the end. */
typedef struct mw__sb {
    char *buf;
    size_t len;
    size_t cap;
    int err; /* 0 or -ENOMEM */
} mw__sb_t;

void mw__sb_putc(mw__sb_t *sb, char c);
void mw__sb_puts(mw__sb_t *sb, const char *s);
void mw__sb_putn(mw__sb_t *sb, const char *s, size_t n);
void mw__sb_printf(mw__sb_t *sb, const char *fmt, ...) MW__PRINTF(2, 3);
void mw__sb_vprintf(mw__sb_t *sb, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included. */
void mw__sb_json_str(mw__sb_t *sb, const char *s);
/* Appends s with XML's five special characters escaped (no quotes added). */
void mw__sb_xml_str(mw__sb_t *sb, const char *s);
/* Gives the buffer to the caller (NUL-terminated, never NULL unless err) and resets sb. */
char *mw__sb_take(mw__sb_t *sb);
void mw__sb_free(mw__sb_t *sb);

/* Reads a whole file, /proc files included (their size is unknown until EOF). The caller frees
 * *ret_buf, which is NUL-terminated. Returns 0 or a negative errno. */
int mw__read_file(const char *path, char **ret_buf, size_t *ret_len);

/* ---- the heaps of other allocators ------------------------------------------------------------
 * An allocator that maps memory of its own (the collector, src/gc) registers a test that
 * recognises that memory, so MW_SHOW (src/maps) can name it without depending on the allocator.
 * At most MW__HEAPS_MAX, never removed; lock-free and allocation-free, from any thread. */
#define MW__HEAPS_MAX 4
/* Registers contains under kind (a static string such as "gc-heap"); the same function again
 * does nothing. contains(addr) returns 1 when its allocator owns addr, and must not allocate or
 * take a lock. Returns 0, -EINVAL (a NULL argument) or -ENOSPC (the table is full). */
int mw__heap_register(const char *kind, int (*contains)(const void *addr));
/* The kind of the first registered heap that owns addr, or NULL. */
const char *mw__heap_kind_at(const void *addr);

/* Formats a byte count the way a person reads it: "512 B", "4.0 KiB", "1.5 GiB". */
const char *mw__format_bytes(uint64_t bytes, char *buf, size_t len);

#endif
