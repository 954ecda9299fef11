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

/* The same in decimal: digits up to the first other character (*end), for numbers inside a
 * longer text ("12,34", /proc fields). */
int mw__parse_dec(const char *s, const char **end, uint64_t *out);

/* Parses a process id: decimal, 1..INT_MAX; "self" gives 0. Returns 0 or -EINVAL / -ERANGE. */
int mw__parse_pid(const char *s, pid_t *out);

/* Writes v in decimal at buf, NUL-terminated (21 bytes suffice); returns the digits written.
 * Allocation-free, as everything in parse.c: the preload uses it. */
size_t mw__utoa(uint64_t v, char *buf);

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
/* Appends s with XML's five special characters escaped (no quotes added). */
void mw__sb_xml_str(mw__sb_t *sb, const char *s);
/* Opens an SVG document of width x height pixels, as every memwalk chart starts: the XML
 * declaration, the svg element (a sans-serif font; font_size pixels when not 0), the style sheet
 * style, and a white background. The caller adds the drawing and "</svg>\n". */
void mw__sb_svg_open(mw__sb_t *sb, int width, double height, int font_size, const char *style);
/* Gives the buffer to the caller (NUL-terminated, never NULL unless err) and resets sb. */
char *mw__sb_take(mw__sb_t *sb);
void mw__sb_free(mw__sb_t *sb);

/* Reads a whole file, /proc files included (their size is unknown until EOF). The caller frees
 * *ret_buf, which is NUL-terminated. Returns 0 or a negative errno. */
int mw__read_file(const char *path, char **ret_buf, size_t *ret_len);

/* Read or write exactly len bytes, across short transfers and EINTR. Return 0, a negative errno,
 * or -EIO when the file ends (or takes no more) first. No allocation. */
int mw__read_full(int fd, void *buf, size_t len);
int mw__write_full(int fd, const void *buf, size_t len);

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

/* ---- the output toolkit: what every command prints with ---------------------------------------
 * One JSON writer, one number format, one byte formatter, one word wrapper, one path escaper.
 * Each appends to a string buffer (errors collect in sb->err). */

/* Appends a finite v in the shortest of %.15g, %.16g and %.17g that reads back as the very same
 * double ("0.1", "2.5", "1234", "0.30000000000000004"); a non-finite v appends nothing (JSON
 * writes null, CSV an empty cell). The number format of every JSON and CSV output. */
void mw__sb_double(mw__sb_t *sb, double v);

/* Appends s as a JSON string literal, quotes included: '"', '\' and control characters escaped,
 * valid UTF-8 as it is, each byte of an invalid UTF-8 sequence as U+FFFD (a path may hold any
 * bytes; JSON text must be Unicode). NULL appends null. */
void mw__sb_json_str(mw__sb_t *sb, const char *s);

/* A JSON writer over a string buffer: containers nest, keys and strings are escaped, numbers use
 * mw__sb_double. Compact ("k":v,...), except in an array opened with mw__json_rows, whose
 * elements each start a line (a table of thousands of rows stays readable and greppable).
 *
 *     mw__json_t j;  mw__json_init(&j, &sb);
 *     mw__json_object(&j, NULL);  mw__json_int(&j, "pid", 42);
 *     mw__json_rows(&j, "regions");  mw__json_object(&j, NULL); ... mw__json_end(&j);
 *     mw__json_finish(&j);   -> {"pid":42,"regions":[\n{...}\n]}
 *
 * key: the member's name inside an object, NULL inside an array and at the top (one value).
 * A misuse (a missing or extra key, an end too many, nesting over MW__JSON_MAX_DEPTH, a second
 * top-level value) sets err to -EINVAL and is left out or mended: the text stays valid JSON. */
#define MW__JSON_MAX_DEPTH 32
typedef struct mw__json {
    mw__sb_t *sb;
    int depth;                                   /* containers open */
    int skip;                                    /* containers past the depth limit, left out */
    int err;                                     /* 0 or -EINVAL */
    unsigned char level[MW__JSON_MAX_DEPTH + 1]; /* per depth: MW__JSON_* flags */
} mw__json_t;

void mw__json_init(mw__json_t *j, mw__sb_t *sb);
void mw__json_object(mw__json_t *j, const char *key); /* {  */
void mw__json_array(mw__json_t *j, const char *key);  /* [  */
void mw__json_rows(mw__json_t *j, const char *key);   /* [  with each element on a new line */
void mw__json_end(mw__json_t *j);                     /* closes the innermost container */
void mw__json_str(mw__json_t *j, const char *key, const char *s); /* NULL: null */
void mw__json_int(mw__json_t *j, const char *key, long long v);
void mw__json_uint(mw__json_t *j, const char *key, unsigned long long v);
void mw__json_num(mw__json_t *j, const char *key, double v); /* non-finite: null */
void mw__json_bool(mw__json_t *j, const char *key, int v);
void mw__json_null(mw__json_t *j, const char *key);
/* An address or other 64-bit pattern as a hex string, "0x7ffc1000": many JSON readers hold
 * numbers in doubles, which lose the low bits of a 64-bit address. */
void mw__json_hex(mw__json_t *j, const char *key, uint64_t v);
/* A complete JSON value written elsewhere (another writer's buffer), copied as it is; NULL: null.
 */
void mw__json_raw(mw__json_t *j, const char *key, const char *json);
/* Closes every container still open. Returns 0, -EINVAL after a misuse, or sb's -ENOMEM. */
int mw__json_finish(mw__json_t *j);

/* Appends json (valid JSON text) re-indented: one member or element a line, two spaces a level,
 * ": " after keys; empty containers stay "{}" and "[]". */
void mw__json_pretty(mw__sb_t *sb, const char *json);

/* How mw__format_bytes_as writes a byte count (units of 1024: B, KiB, MiB, GiB, TiB, PiB, EiB). */
enum mw__bytes_style {
    MW__BYTES_ROUND, /* for a person: "512 B", "4.0 KiB", "1.5 GiB", "130 MiB" */
    MW__BYTES_EXACT, /* the largest unit that holds it whole: "40000 B", "128 KiB", "64 MiB" */
};
const char *mw__format_bytes_as(uint64_t bytes, enum mw__bytes_style style, char *buf, size_t len);
/* Formats a byte count the way a person reads it: "512 B", "4.0 KiB", "1.5 GiB". */
static inline const char *mw__format_bytes(uint64_t bytes, char *buf, size_t len)
{
    return mw__format_bytes_as(bytes, MW__BYTES_ROUND, buf, len);
}

/* Appends text wrapped to lines of at most width columns (a longer word gets a line of its own):
 * the first line starts with first, each next one with rest. Words are split at spaces (runs of
 * them count as one); a newline in text ends a line. Columns count characters, not bytes, and
 * skip terminal colour sequences (ESC [ ... m) in first. Ends with a newline. */
void mw__sb_wrap(mw__sb_t *sb, const char *text, size_t width, const char *first, const char *rest);

/* Appends s as one CSV field (RFC 4180): as it is, or quoted with its quotes doubled when it
 * holds a comma, a quote or a line break. */
void mw__sb_csv_str(mw__sb_t *sb, const char *s);

/* Appends a mapping's path the way /proc/PID/maps writes it: a newline as \012 (the kernel's own
 * escape), everything else as it is, so one region stays one line. */
void mw__sb_path(mw__sb_t *sb, const char *path);

#endif
