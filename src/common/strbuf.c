/* A growable string buffer for building tables, JSON and SVG text. */
#include "common/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sb_reserve(mw__sb_t *sb, size_t extra)
{
    size_t need, cap;
    char *p;

    if (sb->err)
        return -1;
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return 0;
    cap = sb->cap ? sb->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(sb->buf, cap);
    if (!p) {
        sb->err = -ENOMEM;
        return -1;
    }
    sb->buf = p;
    sb->cap = cap;
    return 0;
}

void mw__sb_putn(mw__sb_t *sb, const char *s, size_t n)
{
    if (sb_reserve(sb, n) < 0)
        return;
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void mw__sb_putc(mw__sb_t *sb, char c)
{
    mw__sb_putn(sb, &c, 1);
}

void mw__sb_puts(mw__sb_t *sb, const char *s)
{
    mw__sb_putn(sb, s, strlen(s));
}

void mw__sb_vprintf(mw__sb_t *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || sb_reserve(sb, (size_t)n) < 0)
        return;
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
}

void mw__sb_printf(mw__sb_t *sb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    mw__sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

void mw__sb_svg_open(mw__sb_t *sb, int width, double height, int font_size, const char *style)
{
    mw__sb_printf(sb,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
                  "viewBox=\"0 0 %d %.0f\" font-family=\"DejaVu Sans, Helvetica, Arial, "
                  "sans-serif\"",
                  width, height, width, height);
    if (font_size)
        mw__sb_printf(sb, " font-size=\"%d\"", font_size);
    mw__sb_printf(sb,
                  ">\n<style>%s</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                  style);
}

void mw__sb_xml_str(mw__sb_t *sb, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p; p++) {
        switch (*p) {
        case '&':
            mw__sb_puts(sb, "&amp;");
            break;
        case '<':
            mw__sb_puts(sb, "&lt;");
            break;
        case '>':
            mw__sb_puts(sb, "&gt;");
            break;
        case '"':
            mw__sb_puts(sb, "&quot;");
            break;
        case '\'':
            mw__sb_puts(sb, "&apos;");
            break;
        default:
            /* XML 1.0 forbids most control characters even escaped: show them as '?'. */
            mw__sb_putc(sb, (*p < 0x20 && *p != '\t' && *p != '\n') ? '?' : (char)*p);
        }
    }
}

char *mw__sb_take(mw__sb_t *sb)
{
    char *p;

    if (sb->err) {
        mw__sb_free(sb);
        return NULL;
    }
    if (!sb->buf && sb_reserve(sb, 0) < 0)
        return NULL;
    p = sb->buf;
    sb->buf = NULL;
    sb->len = sb->cap = 0;
    return p;
}

void mw__sb_free(mw__sb_t *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->cap = 0;
    sb->err = 0;
}
