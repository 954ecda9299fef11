/* The JSON side of the output toolkit: the string escaper, the number format and the writer that
 * every command's --json goes through. */
#include "common/common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mw__sb_double(mw__sb_t *sb, double v)
{
    char buf[40];

    if (!isfinite(v))
        return;
    /* %.17g always reads back the same; fewer digits do for most values and read better. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            break;
    }
    mw__sb_puts(sb, buf);
}

/* The length of the valid UTF-8 sequence at p (1 to 4), or 0 when it is not one: overlong forms,
 * surrogates and values past U+10FFFF are not. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];

    if (c >= 0xc2 && c <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

void mw__sb_json_str(mw__sb_t *sb, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (!s) {
        mw__sb_puts(sb, "null");
        return;
    }
    mw__sb_putc(sb, '"');
    while (*p) {
        /* The plain run first, in one copy: paths and names are mostly that. */
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            mw__sb_putn(sb, (const char *)run, (size_t)(p - run));
        if (!*p)
            break;
        if (*p >= 0x80) {
            size_t n = utf8_len(p);
            if (n)
                mw__sb_putn(sb, (const char *)p, n);
            else
                mw__sb_puts(sb, "\\ufffd");
            p += n ? n : 1;
            continue;
        }
        switch (*p) {
        case '"':
            mw__sb_puts(sb, "\\\"");
            break;
        case '\\':
            mw__sb_puts(sb, "\\\\");
            break;
        case '\n':
            mw__sb_puts(sb, "\\n");
            break;
        case '\t':
            mw__sb_puts(sb, "\\t");
            break;
        case '\r':
            mw__sb_puts(sb, "\\r");
            break;
        default:
            mw__sb_printf(sb, "\\u%04x", *p);
        }
        p++;
    }
    mw__sb_putc(sb, '"');
}

/* ---- the writer ------------------------------------------------------------------------------ */

enum {
    MW__JSON_ARRAY = 1, /* the container is an array (else an object, or the top) */
    MW__JSON_LINES = 2, /* its elements each start a line */
    MW__JSON_USED = 4,  /* something was written in it: the next one needs a comma */
};

void mw__json_init(mw__json_t *j, mw__sb_t *sb)
{
    memset(j, 0, sizeof *j);
    j->sb = sb;
}

/* Writes what comes before a value: the comma, the line break, the key. Returns 0 when the value
 * is to be written, -1 when it is left out. */
static int before(mw__json_t *j, const char *key)
{
    unsigned char *lv = &j->level[j->depth];

    if (j->skip)
        return -1;
    if (j->depth == 0 && (*lv & MW__JSON_USED)) {
        j->err = -EINVAL; /* a second value at the top would not be one document */
        return -1;
    }
    if (*lv & MW__JSON_USED)
        mw__sb_putc(j->sb, ',');
    if (*lv & MW__JSON_LINES)
        mw__sb_putc(j->sb, '\n');
    *lv |= MW__JSON_USED;
    if (j->depth == 0 || (*lv & MW__JSON_ARRAY)) {
        if (key)
            j->err = -EINVAL; /* no keys in an array: the value goes in without it */
        return 0;
    }
    if (!key) {
        j->err = -EINVAL;
        key = "";
    }
    mw__sb_json_str(j->sb, key);
    mw__sb_putc(j->sb, ':');
    return 0;
}

static void open_container(mw__json_t *j, const char *key, unsigned char flags)
{
    if (j->skip || j->depth == MW__JSON_MAX_DEPTH) {
        /* Too deep: this container and all it holds are left out, up to its end. */
        j->err = -EINVAL;
        j->skip++;
        return;
    }
    if (before(j, key) < 0) {
        j->skip++;
        return;
    }
    mw__sb_putc(j->sb, (flags & MW__JSON_ARRAY) ? '[' : '{');
    j->level[++j->depth] = flags;
}

void mw__json_object(mw__json_t *j, const char *key)
{
    open_container(j, key, 0);
}

void mw__json_array(mw__json_t *j, const char *key)
{
    open_container(j, key, MW__JSON_ARRAY);
}

void mw__json_rows(mw__json_t *j, const char *key)
{
    open_container(j, key, MW__JSON_ARRAY | MW__JSON_LINES);
}

void mw__json_end(mw__json_t *j)
{
    unsigned char lv;

    if (j->skip) {
        j->skip--;
        return;
    }
    if (j->depth == 0) {
        j->err = -EINVAL;
        return;
    }
    lv = j->level[j->depth--];
    if ((lv & MW__JSON_LINES) && (lv & MW__JSON_USED))
        mw__sb_putc(j->sb, '\n');
    mw__sb_putc(j->sb, (lv & MW__JSON_ARRAY) ? ']' : '}');
}

void mw__json_str(mw__json_t *j, const char *key, const char *s)
{
    if (before(j, key) == 0)
        mw__sb_json_str(j->sb, s);
}

void mw__json_int(mw__json_t *j, const char *key, long long v)
{
    if (before(j, key) == 0)
        mw__sb_printf(j->sb, "%lld", v);
}

void mw__json_uint(mw__json_t *j, const char *key, unsigned long long v)
{
    if (before(j, key) == 0)
        mw__sb_printf(j->sb, "%llu", v);
}

void mw__json_num(mw__json_t *j, const char *key, double v)
{
    if (before(j, key) < 0)
        return;
    if (isfinite(v))
        mw__sb_double(j->sb, v);
    else
        mw__sb_puts(j->sb, "null");
}

void mw__json_bool(mw__json_t *j, const char *key, int v)
{
    if (before(j, key) == 0)
        mw__sb_puts(j->sb, v ? "true" : "false");
}

void mw__json_null(mw__json_t *j, const char *key)
{
    if (before(j, key) == 0)
        mw__sb_puts(j->sb, "null");
}

void mw__json_hex(mw__json_t *j, const char *key, uint64_t v)
{
    if (before(j, key) == 0)
        mw__sb_printf(j->sb, "\"0x%llx\"", (unsigned long long)v);
}

void mw__json_raw(mw__json_t *j, const char *key, const char *json)
{
    if (before(j, key) == 0)
        mw__sb_puts(j->sb, json ? json : "null");
}

int mw__json_finish(mw__json_t *j)
{
    while (j->skip || j->depth > 0)
        mw__json_end(j);
    return j->sb->err ? j->sb->err : j->err;
}

/* ---- re-indenting ---------------------------------------------------------------------------- */

static void newline(mw__sb_t *sb, int depth)
{
    mw__sb_printf(sb, "\n%*s", 2 * (depth > 0 ? depth : 0), "");
}

void mw__json_pretty(mw__sb_t *sb, const char *json)
{
    int depth = 0;

    for (const char *p = json; *p; p++) {
        char c = *p;
        switch (c) {
        case '"': {
            /* A string, escapes and all, as it is. */
            const char *q = p + 1;
            while (*q && *q != '"')
                q += q[0] == '\\' && q[1] ? 2 : 1;
            mw__sb_putn(sb, p, (size_t)(q - p) + (*q != '\0'));
            p = *q ? q : q - 1;
            break;
        }
        case '{':
        case '[': {
            const char *q = p + 1;
            while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r')
                q++;
            if (*q == (c == '{' ? '}' : ']')) {
                mw__sb_putc(sb, c);
                mw__sb_putc(sb, *q);
                p = q;
                break;
            }
            mw__sb_putc(sb, c);
            newline(sb, ++depth);
            break;
        }
        case '}':
        case ']':
            newline(sb, --depth);
            mw__sb_putc(sb, c);
            break;
        case ',':
            mw__sb_putc(sb, ',');
            newline(sb, depth);
            break;
        case ':':
            mw__sb_puts(sb, ": ");
            break;
        case ' ':
        case '\n':
        case '\t':
        case '\r':
            break;
        default:
            mw__sb_putc(sb, c);
        }
    }
}
