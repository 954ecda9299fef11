/* The text side of the output toolkit: byte counts, wrapped paragraphs, CSV fields and mapping
 * paths, the same in every command and in the tour. */
#include "common/common.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *mw__format_bytes_as(uint64_t bytes, enum mw__bytes_style style, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    unsigned u = 0;

    if (style == MW__BYTES_EXACT) {
        uint64_t v = bytes;
        while (v >= 1024 && v % 1024 == 0 && u + 1 < MW__ARRAY_LEN(units)) {
            v /= 1024;
            u++;
        }
        snprintf(buf, len, "%llu %s", (unsigned long long)v, units[u]);
        return buf;
    }
    if (bytes < 1024) {
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
        return buf;
    }
    double v = (double)bytes;
    while (v >= 1024.0 && u + 1 < MW__ARRAY_LEN(units)) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, v < 10.0 ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

/* The columns n bytes of s take on a terminal: characters, not bytes (UTF-8 continuation bytes
 * take none), and no column for a colour sequence (ESC [ ... m). */
static size_t columns(const char *s, size_t n)
{
    size_t cols = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\033' && i + 1 < n && s[i + 1] == '[') {
            for (i += 2; i < n && s[i] != 'm'; i++)
                ;
            continue;
        }
        cols += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return cols;
}

void mw__sb_wrap(mw__sb_t *sb, const char *text, size_t width, const char *first, const char *rest)
{
    size_t rest_cols = columns(rest, strlen(rest)), col = columns(first, strlen(first));
    bool empty = true; /* nothing on this line after its lead yet */
    const char *p = text;

    mw__sb_puts(sb, first);
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == '\n') {
            /* A line break in the text, unless only blanks follow it. */
            p++;
            if (!p[strspn(p, " \n")])
                break;
            mw__sb_putc(sb, '\n');
            mw__sb_puts(sb, rest);
            col = rest_cols;
            empty = true;
            continue;
        }
        if (!*p)
            break;
        size_t n = strcspn(p, " \n"), w = columns(p, n);
        if (!empty && col + 1 + w > width) {
            mw__sb_putc(sb, '\n');
            mw__sb_puts(sb, rest);
            col = rest_cols;
            empty = true;
        } else if (!empty) {
            mw__sb_putc(sb, ' ');
            col++;
        }
        mw__sb_putn(sb, p, n);
        col += w;
        empty = false;
        p += n;
    }
    mw__sb_putc(sb, '\n');
}

void mw__sb_path(mw__sb_t *sb, const char *path)
{
    while (*path) {
        size_t n = strcspn(path, "\n");
        mw__sb_putn(sb, path, n);
        path += n;
        if (*path) {
            mw__sb_puts(sb, "\\012");
            path++;
        }
    }
}

void mw__sb_csv_str(mw__sb_t *sb, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        mw__sb_puts(sb, s);
        return;
    }
    mw__sb_putc(sb, '"');
    for (; *s; s++) {
        if (*s == '"')
            mw__sb_putc(sb, '"');
        mw__sb_putc(sb, *s);
    }
    mw__sb_putc(sb, '"');
}
