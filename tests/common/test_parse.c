/* Tests for the internal number parsers and the string buffer. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

Test(common_parse, u64_hex_and_decimal)
{
    uint64_t v = 0;
    cr_assert_eq(mw__parse_u64("0x7ffc9a4a4000", &v), 0);
    cr_assert_eq(v, 0x7ffc9a4a4000ull);
    cr_assert_eq(mw__parse_u64("140737319252016", &v), 0);
    cr_assert_eq(v, 140737319252016ull);
    cr_assert_eq(mw__parse_u64("0XFFFFFFFFFFFFFFFF", &v), 0);
    cr_assert_eq(v, UINT64_MAX);
}

Test(common_parse, u64_rejects_garbage_and_overflow)
{
    uint64_t v = 42;
    cr_assert_eq(mw__parse_u64("", &v), -EINVAL);
    cr_assert_eq(mw__parse_u64("0x", &v), -EINVAL);
    cr_assert_eq(mw__parse_u64("12abc", &v), -EINVAL);
    cr_assert_eq(mw__parse_u64("-1", &v), -EINVAL);
    cr_assert_eq(mw__parse_u64("0x10000000000000000", &v), -ERANGE);
    cr_assert_eq(mw__parse_u64("18446744073709551616", &v), -ERANGE);
    cr_assert_eq(v, 42, "output must stay untouched on failure");
}

Test(common_parse, pid)
{
    pid_t p = -1;
    cr_assert_eq(mw__parse_pid("self", &p), 0);
    cr_assert_eq(p, 0);
    cr_assert_eq(mw__parse_pid("1234", &p), 0);
    cr_assert_eq(p, 1234);
    cr_assert_eq(mw__parse_pid("0", &p), -ERANGE);
    cr_assert_eq(mw__parse_pid("99999999999", &p), -ERANGE);
    cr_assert_eq(mw__parse_pid("12 ", &p), -EINVAL);
    cr_assert_eq(mw__parse_pid("0x10", &p), -EINVAL);
}

Test(common_parse, size_suffixes)
{
    uint64_t v;
    cr_assert_eq(mw__parse_size("64K", &v), 0);
    cr_assert_eq(v, 65536);
    cr_assert_eq(mw__parse_size("2MiB", &v), 0);
    cr_assert_eq(v, 2u << 20);
    cr_assert_eq(mw__parse_size("1g", &v), 0);
    cr_assert_eq(v, 1u << 30);
    cr_assert_eq(mw__parse_size("5X", &v), -EINVAL);
    cr_assert_eq(mw__parse_size("20000000000G", &v), -ERANGE);
}

Test(common_strbuf, printf_and_escapes)
{
    mw__sb_t sb = {0};
    mw__sb_printf(&sb, "%d-%s", 7, "x");
    mw__sb_json_str(&sb, "a\"b\\c\n\x01");
    mw__sb_xml_str(&sb, "<&>");
    char *s = mw__sb_take(&sb);
    cr_assert_str_eq(s, "7-x\"a\\\"b\\\\c\\n\\u0001\"&lt;&amp;&gt;");
    cr_assert_null(sb.buf);
    free(s);
}

Test(common_strbuf, grows_past_initial_capacity)
{
    mw__sb_t sb = {0};
    for (int i = 0; i < 10000; i++)
        mw__sb_putc(&sb, (char)('a' + i % 26));
    cr_assert_eq(sb.len, 10000);
    cr_assert_eq(strlen(sb.buf), 10000);
    cr_assert_eq(sb.buf[9999], 'a' + 9999 % 26);
    mw__sb_free(&sb);
}

Test(common_file, reads_proc_file_to_eof)
{
    char *buf;
    size_t len;
    cr_assert_eq(mw__read_file("/proc/self/maps", &buf, &len), 0);
    cr_assert_gt(len, 0);
    cr_assert_eq(strlen(buf), len);
    cr_assert_not_null(strstr(buf, "[stack]"));
    free(buf);
    cr_assert_eq(mw__read_file("/nonexistent/file", &buf, &len), -ENOENT);
}

Test(common_file, format_bytes)
{
    char b[32];
    cr_assert_str_eq(mw__format_bytes(512, b, sizeof b), "512 B");
    cr_assert_str_eq(mw__format_bytes(4096, b, sizeof b), "4.0 KiB");
    cr_assert_str_eq(mw__format_bytes(3ull << 30, b, sizeof b), "3.0 GiB");
    cr_assert_str_eq(mw__format_bytes(100ull << 20, b, sizeof b), "100 MiB");
}

Test(common_parse, utoa_writes_decimal_and_terminates)
{
    char buf[24];

    cr_assert_eq(mw__utoa(0, buf), 1);
    cr_assert_str_eq(buf, "0");
    cr_assert_eq(mw__utoa(4096, buf), 4);
    cr_assert_str_eq(buf, "4096");
    cr_assert_eq(mw__utoa(UINT64_MAX, buf), 20);
    cr_assert_str_eq(buf, "18446744073709551615");
}

Test(common_parse, dec_reads_digits_up_to_the_next_character)
{
    const char *end;
    uint64_t v = 0;

    cr_assert_eq(mw__parse_dec("12,34", &end, &v), 0);
    cr_assert_eq(v, 12);
    cr_assert_eq(*end, ',');
    cr_assert_eq(mw__parse_dec("0x10", &end, &v), 0, "a hex prefix is not decimal");
    cr_assert_eq(v, 0);
    cr_assert_eq(*end, 'x');
    cr_assert_eq(mw__parse_dec(",1", &end, &v), -EINVAL);
    cr_assert_eq(mw__parse_dec("99999999999999999999", &end, &v), -ERANGE);
}
