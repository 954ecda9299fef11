/* Tests for the output toolkit: the number format, the JSON string escaper and writer, byte
 * counts, the word wrapper and the path escaper. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"

static char out[8192];

/* What fn appended to an empty buffer, in out. */
#define APPENDED(call)                                           \
    do {                                                         \
        mw__sb_t sb_ = {0};                                      \
        mw__sb_t *sb = &sb_;                                     \
        call;                                                    \
        cr_assert_eq(sb_.err, 0);                                \
        snprintf(out, sizeof out, "%s", sb_.buf ? sb_.buf : ""); \
        mw__sb_free(&sb_);                                       \
    } while (0)

/* Whether python3's JSON parser accepts text. */
static int python_accepts(const char *text)
{
    char path[] = "/tmp/memwalk-json-XXXXXX", cmd[128];
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 -c 'import json,sys; json.load(open(sys.argv[1]))' %s",
             path);
    int rc = system(cmd);
    unlink(path);
    return rc == 0;
}

/* ---- numbers --------------------------------------------------------------------------------- */

Test(common_output, doubles_print_short_and_read_back_the_same)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {{0.1, "0.1"},
                 {2.5, "2.5"},
                 {1234, "1234"},
                 {-0.0, "-0"},
                 {1e-7, "1e-07"},
                 {0.0, "0"},
                 {123456789012345, "123456789012345"},
                 {0.1 + 0.2, "0.30000000000000004"},
                 {1e300, "1e+300"}};

    for (size_t i = 0; i < MW__ARRAY_LEN(cases); i++) {
        APPENDED(mw__sb_double(sb, cases[i].v));
        cr_assert_str_eq(out, cases[i].text);
    }
    /* Every double reads back exactly: powers, thirds and random bit patterns. */
    srand(7);
    for (int i = 0; i < 20000; i++) {
        double v;
        if (i < 2000) {
            v = pow(10, i % 600 - 300) / 3;
        } else {
            uint64_t bits = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
        }
        APPENDED(mw__sb_double(sb, v));
        cr_assert_eq(strtod(out, NULL), v, "%s", out);
        cr_assert_leq(strlen(out), 24);
    }
}

Test(common_output, non_finite_doubles_append_nothing)
{
    APPENDED(mw__sb_double(sb, NAN); mw__sb_double(sb, INFINITY); mw__sb_double(sb, -INFINITY));
    cr_assert_str_eq(out, "");
}

/* ---- JSON strings ---------------------------------------------------------------------------- */

Test(common_output, json_strings_escape_quotes_backslashes_and_controls)
{
    APPENDED(mw__sb_json_str(sb, "a\"b\\c\nd\te\rf\x01g\x1f"));
    cr_assert_str_eq(out, "\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u001f\"");
    APPENDED(mw__sb_json_str(sb, NULL));
    cr_assert_str_eq(out, "null");
    APPENDED(mw__sb_json_str(sb, ""));
    cr_assert_str_eq(out, "\"\"");
}

Test(common_output, json_strings_keep_utf8_and_replace_invalid_bytes)
{
    APPENDED(mw__sb_json_str(sb, "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80"));
    cr_assert_str_eq(out, "\"caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80\"");
    /* A lone continuation byte, an overlong '/', a surrogate, a cut sequence, Latin-1. */
    APPENDED(mw__sb_json_str(sb, "a\x80"
                                 "b\xc0\xaf"
                                 "c\xed\xa0\x80"
                                 "d\xe2\x86"
                                 "e\xe9"));
    cr_assert_str_eq(out,
                     "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd\\ufffde\\ufffd\"");
    cr_assert(python_accepts(out));
}

/* ---- the writer ------------------------------------------------------------------------------ */

Test(common_output, writer_nests_and_escapes_keys)
{
    mw__sb_t sb = {0};
    mw__json_t j;

    mw__json_init(&j, &sb);
    mw__json_object(&j, NULL);
    mw__json_str(&j, "name", "x");
    mw__json_int(&j, "neg", -3);
    mw__json_uint(&j, "big", UINT64_MAX);
    mw__json_num(&j, "ratio", 2.5);
    mw__json_num(&j, "nan", NAN);
    mw__json_bool(&j, "ok", 1);
    mw__json_null(&j, "none");
    mw__json_hex(&j, "addr", 0x7ffc1000);
    mw__json_str(&j, "k\"ey", NULL);
    mw__json_array(&j, "list");
    mw__json_int(&j, NULL, 1);
    mw__json_object(&j, NULL);
    mw__json_end(&j);
    mw__json_array(&j, NULL);
    mw__json_end(&j);
    mw__json_end(&j);
    mw__json_raw(&j, "raw", "{\"a\":[1,2]}");
    mw__json_end(&j);
    cr_assert_eq(mw__json_finish(&j), 0);
    cr_assert_str_eq(sb.buf,
                     "{\"name\":\"x\",\"neg\":-3,\"big\":18446744073709551615,\"ratio\":2.5,"
                     "\"nan\":null,\"ok\":true,\"none\":null,\"addr\":\"0x7ffc1000\","
                     "\"k\\\"ey\":null,\"list\":[1,{},[]],\"raw\":{\"a\":[1,2]}}");
    cr_assert(python_accepts(sb.buf));
    mw__sb_free(&sb);
}

Test(common_output, rows_put_each_element_on_a_line)
{
    mw__sb_t sb = {0};
    mw__json_t j;

    mw__json_init(&j, &sb);
    mw__json_object(&j, NULL);
    mw__json_rows(&j, "rows");
    for (int i = 0; i < 3; i++) {
        mw__json_object(&j, NULL);
        mw__json_int(&j, "i", i);
        mw__json_end(&j);
    }
    mw__json_end(&j);
    mw__json_rows(&j, "empty");
    mw__json_end(&j);
    cr_assert_eq(mw__json_finish(&j), 0, "finish closes the object");
    cr_assert_str_eq(sb.buf, "{\"rows\":[\n{\"i\":0},\n{\"i\":1},\n{\"i\":2}\n],\"empty\":[]}");
    mw__sb_free(&sb);
}

Test(common_output, misuse_is_reported_and_the_text_stays_valid)
{
    mw__sb_t sb = {0};
    mw__json_t j;

    mw__json_init(&j, &sb);
    mw__json_object(&j, NULL);
    mw__json_int(&j, NULL, 1); /* no key in an object */
    mw__json_array(&j, "a");
    mw__json_int(&j, "extra", 2); /* a key in an array */
    for (int i = 0; i < 3 * MW__JSON_MAX_DEPTH; i++)
        mw__json_array(&j, NULL); /* far too deep */
    mw__json_int(&j, NULL, 3);
    for (int i = 0; i < 3 * MW__JSON_MAX_DEPTH; i++)
        mw__json_end(&j);
    mw__json_int(&j, NULL, 4); /* back in "a" */
    cr_assert_eq(mw__json_finish(&j), -EINVAL);
    mw__json_end(&j);          /* an end too many */
    mw__json_int(&j, NULL, 5); /* a second document */
    cr_assert(python_accepts(sb.buf), "%s", sb.buf);
    cr_assert_eq(sb.buf[sb.len - 1], '}');
    cr_assert_not_null(strstr(sb.buf, ",4]}"), "%s", sb.buf);
    mw__sb_free(&sb);
}

Test(common_output, finish_reports_out_of_memory)
{
    mw__sb_t sb = {.err = -ENOMEM};
    mw__json_t j;

    mw__json_init(&j, &sb);
    mw__json_object(&j, NULL);
    cr_assert_eq(mw__json_finish(&j), -ENOMEM);
}

Test(common_output, pretty_indents_and_keeps_strings)
{
    APPENDED(mw__json_pretty(sb, "{\"a\":[1,{\"b\":\"x, y: {z}\\\"\"}],\"e\":{},\"f\":[ ]}"));
    cr_assert_str_eq(out, "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x, y: {z}\\\"\"\n    }\n"
                          "  ],\n  \"e\": {},\n  \"f\": []\n}");
    cr_assert(python_accepts(out));
}

/* ---- byte counts ----------------------------------------------------------------------------- */

Test(common_output, bytes_rounded_for_a_person)
{
    char b[32];

    cr_assert_str_eq(mw__format_bytes(0, b, sizeof b), "0 B");
    cr_assert_str_eq(mw__format_bytes(1023, b, sizeof b), "1023 B");
    cr_assert_str_eq(mw__format_bytes(4096, b, sizeof b), "4.0 KiB");
    cr_assert_str_eq(mw__format_bytes(132 << 10, b, sizeof b), "132 KiB");
    cr_assert_str_eq(mw__format_bytes(3ull << 29, b, sizeof b), "1.5 GiB");
    cr_assert_str_eq(mw__format_bytes(UINT64_MAX, b, sizeof b), "16 EiB");
}

Test(common_output, bytes_exact_in_the_largest_whole_unit)
{
    char b[32];

    cr_assert_str_eq(mw__format_bytes_as(0, MW__BYTES_EXACT, b, sizeof b), "0 B");
    cr_assert_str_eq(mw__format_bytes_as(16, MW__BYTES_EXACT, b, sizeof b), "16 B");
    cr_assert_str_eq(mw__format_bytes_as(40000, MW__BYTES_EXACT, b, sizeof b), "40000 B");
    cr_assert_str_eq(mw__format_bytes_as(128 << 10, MW__BYTES_EXACT, b, sizeof b), "128 KiB");
    cr_assert_str_eq(mw__format_bytes_as(1536 << 10, MW__BYTES_EXACT, b, sizeof b), "1536 KiB");
    cr_assert_str_eq(mw__format_bytes_as(64 << 20, MW__BYTES_EXACT, b, sizeof b), "64 MiB");
    cr_assert_str_eq(mw__format_bytes_as(1ull << 62, MW__BYTES_EXACT, b, sizeof b), "4 EiB");
}

/* ---- wrapping -------------------------------------------------------------------------------- */

Test(common_output, wrap_fills_lines_up_to_the_width)
{
    APPENDED(mw__sb_wrap(sb, "aaa bbb ccc ddd  eee", 11, "", ""));
    cr_assert_str_eq(out, "aaa bbb ccc\nddd eee\n");
    APPENDED(mw__sb_wrap(sb, "aaa bbb ccc ddd", 12, "- ", "  "));
    cr_assert_str_eq(out, "- aaa bbb\n  ccc ddd\n");
    APPENDED(mw__sb_wrap(sb, "", 10, "# ", "#"));
    cr_assert_str_eq(out, "# \n");
}

Test(common_output, wrap_gives_a_long_word_its_own_line)
{
    APPENDED(mw__sb_wrap(sb, "a /a/very/long/path b", 8, "", "  "));
    cr_assert_str_eq(out, "a\n  /a/very/long/path\n  b\n");
}

Test(common_output, wrap_counts_characters_not_bytes_or_colour)
{
    /* "=> " in green: 3 columns; "é" and "→" one column each. */
    APPENDED(mw__sb_wrap(sb, "caf\xc3\xa9 \xe2\x86\x92 ab", 10, "\033[1;32m=>\033[0m ", "   "));
    cr_assert_str_eq(out, "\033[1;32m=>\033[0m caf\xc3\xa9 \xe2\x86\x92\n   ab\n");
}

Test(common_output, wrap_breaks_at_newlines_in_the_text)
{
    APPENDED(mw__sb_wrap(sb, "one\ntwo three\n", 20, "> ", ". "));
    cr_assert_str_eq(out, "> one\n. two three\n");
}

/* ---- paths ----------------------------------------------------------------------------------- */

Test(common_output, paths_escape_newlines_as_the_kernel_does)
{
    APPENDED(mw__sb_path(sb, "/tmp/a\nb\n"));
    cr_assert_str_eq(out, "/tmp/a\\012b\\012");
    APPENDED(mw__sb_path(sb, "/usr/lib/x86_64-linux-gnu/libc.so.6 (deleted)"));
    cr_assert_str_eq(out, "/usr/lib/x86_64-linux-gnu/libc.so.6 (deleted)");
}

/* ---- CSV fields ------------------------------------------------------------------------------ */

Test(common_output, csv_fields_are_quoted_only_when_needed)
{
    APPENDED(mw__sb_csv_str(sb, "stack"));
    cr_assert_str_eq(out, "stack");
    APPENDED(mw__sb_csv_str(sb, "heap, no free"));
    cr_assert_str_eq(out, "\"heap, no free\"");
    APPENDED(mw__sb_csv_str(sb, "say \"hi\"\nbye"));
    cr_assert_str_eq(out, "\"say \"\"hi\"\"\nbye\"");
}

/* Every chart opens the same way: declaration, svg element, style sheet, white background. */
Test(common_output, svg_documents_open_alike)
{
    APPENDED(mw__sb_svg_open(sb, 640, 123.4, 12, ".a{fill:red}"));
    cr_assert(strncmp(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0, "%s",
              out);
    cr_assert(strstr(out, " width=\"640\" height=\"123\" viewBox=\"0 0 640 123\""), "%s", out);
    cr_assert(strstr(out, " font-size=\"12\">\n<style>.a{fill:red}</style>\n"), "%s", out);
    cr_assert(strstr(out, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"), "%s", out);
    APPENDED(mw__sb_svg_open(sb, 10, 20, 0, ""));
    cr_assert_null(strstr(out, "font-size"), "%s", out);
    cr_assert(strstr(out, "sans-serif\">\n<style></style>\n"), "%s", out);
}
