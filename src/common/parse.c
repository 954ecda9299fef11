/* Number parsing for addresses, PIDs and sizes given on command lines and in /proc files. */
#include "common/common.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

/* Accumulates digits of one base; stops at the first non-digit. */
static int parse_digits(const char *s, unsigned base, const char **end, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;
    int d;

    while (*p && (d = mw__hex_digit(*p)) >= 0 && (unsigned)d < base) {
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return -ERANGE;
        v = v * base + (uint64_t)d;
        p++;
    }
    if (p == s)
        return -EINVAL;
    *end = p;
    *out = v;
    return 0;
}

int mw__parse_u64(const char *s, uint64_t *out)
{
    const char *end;
    uint64_t v;
    unsigned base = 10;
    int r;

    if (!s)
        return -EINVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    r = parse_digits(s, base, &end, &v);
    if (r < 0)
        return r;
    if (*end)
        return -EINVAL;
    *out = v;
    return 0;
}

int mw__parse_hex(const char *s, const char **end, uint64_t *out)
{
    return parse_digits(s, 16, end, out);
}

int mw__parse_dec(const char *s, const char **end, uint64_t *out)
{
    return parse_digits(s, 10, end, out);
}

int mw__parse_pid(const char *s, pid_t *out)
{
    const char *end;
    uint64_t v;
    int r;

    if (!s)
        return -EINVAL;
    if (strcmp(s, "self") == 0) {
        *out = 0;
        return 0;
    }
    r = parse_digits(s, 10, &end, &v);
    if (r < 0)
        return r;
    if (*end)
        return -EINVAL;
    if (v == 0 || v > INT_MAX)
        return -ERANGE;
    *out = (pid_t)v;
    return 0;
}

int mw__parse_size(const char *s, uint64_t *out)
{
    const char *end;
    uint64_t v, mult = 1;
    int r;

    if (!s)
        return -EINVAL;
    r = parse_digits(s, 10, &end, &v);
    if (r < 0)
        return r;
    switch (toupper((unsigned char)*end)) {
    case '\0':
        break;
    case 'K':
        mult = 1ull << 10;
        break;
    case 'M':
        mult = 1ull << 20;
        break;
    case 'G':
        mult = 1ull << 30;
        break;
    default:
        return -EINVAL;
    }
    if (*end) {
        end++;
        if (*end == 'i' || *end == 'I')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
        if (*end)
            return -EINVAL;
    }
    if (v > UINT64_MAX / mult)
        return -ERANGE;
    *out = v * mult;
    return 0;
}

size_t mw__utoa(uint64_t v, char *buf)
{
    char tmp[24];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}
