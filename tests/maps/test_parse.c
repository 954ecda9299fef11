/* Tests for the strict maps/smaps parser and the name/permission classification of parsed text. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "maps/maps_int.h"
#include "memwalk/maps.h"

#define FIXTURE(name) MW_SRC_DIR "/tests/maps/fixtures/" name

static mw_maps_t parse_fixture(const char *path, unsigned flags)
{
    char *text;
    size_t len, line = 0;
    mw_maps_t m;
    int r;

    cr_assert_eq(mw__read_file(path, &text, &len), 0, "cannot read %s", path);
    r = mw_maps_parse(text, len, flags, &m, &line);
    free(text);
    cr_assert_eq(r, 0, "%s: parse failed (%d) at line %zu", path, r, line);
    return m;
}

static int parse_text(const char *text, unsigned flags, size_t *line)
{
    mw_maps_t m;
    int r = mw_maps_parse(text, strlen(text), flags, &m, line);

    if (r == 0)
        mw_maps_free(&m);
    return r;
}

static const char *kind_of(const mw_maps_t *m, size_t i)
{
    return mw_region_kind_name(m->regions[i].kind);
}

Test(maps_parse, odd_fixture_parses_every_line)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_eq(m.count, 30);
    mw_maps_free(&m);
}

Test(maps_parse, path_with_spaces_is_kept_whole)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(m.regions[0].path, "/usr/local/bin/my prog");
    mw_maps_free(&m);
}

Test(maps_parse, deleted_suffix_is_split_off)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(m.regions[16].path, "/tmp/data file");
    cr_assert_eq(m.regions[16].deleted, 1);
    cr_assert_eq(m.regions[18].deleted, 0);
    mw_maps_free(&m);
}

Test(maps_parse, escaped_newline_is_decoded)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(m.regions[17].path, "/tmp/new\nline");
    mw_maps_free(&m);
}

Test(maps_parse, anonymous_line_has_empty_path)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(m.regions[7].path, "");
    cr_assert_eq(m.regions[7].inode, 0);
    mw_maps_free(&m);
}

Test(maps_parse, fixed_fields_are_read)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);
    const mw_region_t *r = &m.regions[20];

    cr_assert_eq(r->start, (uintptr_t)0x7ffff7da6000);
    cr_assert_eq(r->end, (uintptr_t)0x7ffff7efc000);
    cr_assert_str_eq(r->perms, "r-xp");
    cr_assert_eq(r->offset, 0x26000);
    cr_assert_eq(r->dev_major, 0xfe);
    cr_assert_eq(r->dev_minor, 0);
    cr_assert_eq(r->inode, 332835);
    mw_maps_free(&m);
}

Test(maps_parse, vsyscall_address_over_47_bits)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_eq(m.regions[29].start, (uintptr_t)0xffffffffff600000ull);
    cr_assert_str_eq(kind_of(&m, 29), "vsyscall");
    mw_maps_free(&m);
}

Test(maps_kinds, object_split_by_permissions_without_headers)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(kind_of(&m, 0), "rodata");
    cr_assert_str_eq(kind_of(&m, 1), "text");
    cr_assert_str_eq(kind_of(&m, 3), "rodata");
    cr_assert_str_eq(kind_of(&m, 4), "data");
    cr_assert_str_eq(kind_of(&m, 21), "rodata");
    cr_assert_str_eq(kind_of(&m, 23), "data");
    mw_maps_free(&m);
}

Test(maps_kinds, anonymous_tail_of_an_object_is_bss)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(kind_of(&m, 5), "bss");
    cr_assert_str_eq(kind_of(&m, 24), "bss");
    mw_maps_free(&m);
}

Test(maps_kinds, heap_stack_and_kernel_pages)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(kind_of(&m, 6), "heap");
    cr_assert_str_eq(kind_of(&m, 25), "vvar");
    cr_assert_str_eq(kind_of(&m, 26), "vvar"); /* [vvar_vclock], Linux 6.13+ */
    cr_assert_str_eq(kind_of(&m, 27), "vdso");
    cr_assert_str_eq(kind_of(&m, 28), "stack");
    mw_maps_free(&m);
}

Test(maps_kinds, old_kernel_thread_stack_name_gives_tid)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(kind_of(&m, 10), "thread-stack");
    cr_assert_eq(m.regions[10].tid, 4242);
    mw_maps_free(&m);
}

Test(maps_kinds, no_access_page_below_a_stack_is_guard)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(kind_of(&m, 9), "guard");
    /* An arena's reserved tail is inaccessible too, but guards nothing. */
    cr_assert_str_eq(kind_of(&m, 8), "reserved");
    mw_maps_free(&m);
}

/* glibc's arena for a thread: the part in use is anon, the rest of its 64 MiB is reserved; a
 * no-access page below a stack stays a guard. */
Test(maps_kinds, inaccessible_anonymous_memory_is_reserved)
{
    static const char text[] = "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
                               "7f0000021000-7f0004000000 ---p 00000000 00:00 0 \n"
                               "7f0010000000-7f0010001000 ---p 00000000 00:00 0 \n"
                               "7f0010001000-7f0010801000 rw-p 00000000 00:00 0 [stack:77]\n"
                               "7f0020000000-7f0020001000 ---p 00000000 08:01 12 /lib/x.so\n";
    mw_maps_t m;

    cr_assert_eq(mw_maps_parse(text, sizeof(text) - 1, 0, &m, NULL), 0);
    cr_assert_str_eq(kind_of(&m, 0), "anon");
    cr_assert_str_eq(kind_of(&m, 1), "reserved");
    cr_assert_str_eq(kind_of(&m, 2), "guard");
    cr_assert_str_eq(kind_of(&m, 4), "file");
    mw_maps_free(&m);
}

Test(maps_kinds, memfd_sysv_and_dev_zero_are_shm)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(kind_of(&m, 11), "shm");
    cr_assert_str_eq(m.regions[11].path, "/memfd:wayland-shm");
    cr_assert_str_eq(kind_of(&m, 12), "shm");
    cr_assert_str_eq(kind_of(&m, 13), "shm");
    cr_assert_str_eq(kind_of(&m, 15), "shm");
    mw_maps_free(&m);
}

Test(maps_kinds, anon_name_is_named_anon)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(kind_of(&m, 14), "named-anon");
    cr_assert_str_eq(m.regions[14].path, "[anon:mw-gc chunk]");
    mw_maps_free(&m);
}

Test(maps_kinds, data_file_is_file)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_str_eq(kind_of(&m, 16), "file");
    cr_assert_str_eq(kind_of(&m, 18), "file");
    mw_maps_free(&m);
}

Test(maps_find, finds_region_and_misses_gaps)
{
    mw_maps_t m = parse_fixture(FIXTURE("odd.maps"), 0);

    cr_assert_eq(mw_maps_find(&m, 0x555555560000), &m.regions[6]);
    cr_assert_eq(mw_maps_find(&m, 0x555555580fff), &m.regions[6]);
    cr_assert_null(mw_maps_find(&m, 0x555555581000));
    cr_assert_null(mw_maps_find(&m, 0x1000));
    cr_assert_eq(mw_maps_find(&m, 0xffffffffff600800ull), &m.regions[29]);
    cr_assert_eq(mw_maps_kind_at(&m, 0x1000), -ENOENT);
    mw_maps_free(&m);
}

Test(maps_parse, empty_text_has_no_regions)
{
    mw_maps_t m;

    cr_assert_eq(mw_maps_parse("", 0, 0, &m, NULL), 0);
    cr_assert_eq(m.count, 0);
    mw_maps_free(&m);
}

Test(maps_parse, last_line_without_newline)
{
    cr_assert_eq(parse_text("00400000-00401000 r-xp 00000000 08:01 12 /bin/x", 0, NULL), 0);
}

Test(maps_parse, real_capture_parses)
{
    mw_maps_t m = parse_fixture(FIXTURE("self.maps"), 0);

    cr_assert_gt(m.count, 10);
    mw_maps_free(&m);
}

/* Malformed input: -EINVAL with the number of the first bad line. */

static void assert_bad(const char *text, size_t want_line)
{
    size_t line = 0;

    cr_assert_eq(parse_text(text, 0, &line), -EINVAL, "accepted: %s", text);
    cr_assert_eq(line, want_line, "line %zu, want %zu for: %s", line, want_line, text);
}

#define GOOD "00400000-00401000 r-xp 00000000 08:01 12 /bin/x\n"

Test(maps_malformed, bad_permissions)
{
    assert_bad(GOOD "00401000-00402000 rwzp 00000000 08:01 12 /bin/x\n", 2);
}

Test(maps_malformed, missing_inode)
{
    assert_bad("00400000-00401000 r-xp 00000000 08:01\n", 1);
}

Test(maps_malformed, missing_dash)
{
    assert_bad(GOOD "00401000-00402000 r--p 00001000 08:01 12 /bin/x\n"
                    "0040200000403000 r-xp 00000000 08:01 12\n",
               3);
}

Test(maps_malformed, start_not_below_end)
{
    assert_bad("00401000-00401000 r-xp 00000000 08:01 12\n", 1);
}

Test(maps_malformed, address_over_64_bits)
{
    assert_bad("10000000000000000-10000000000000001 r-xp 00000000 08:01 12\n", 1);
}

Test(maps_malformed, unsorted_lines)
{
    assert_bad("00500000-00501000 r-xp 00000000 08:01 12\n" GOOD, 2);
}

Test(maps_malformed, garbage_after_inode)
{
    assert_bad("00400000-00401000 r-xp 00000000 08:01 12x /bin/x\n", 1);
}

Test(maps_malformed, two_spaces_between_fields)
{
    assert_bad("00400000-00401000  r-xp 00000000 08:01 12\n", 1);
}

Test(maps_malformed, empty_line)
{
    assert_bad(GOOD "\n" GOOD, 2);
}

Test(maps_malformed, nul_byte)
{
    static const char text[] = "00400000-00401000 r-xp 00000000 08:01 12 /bin\0x\n";
    mw_maps_t m;
    size_t line = 0;

    cr_assert_eq(mw_maps_parse(text, sizeof(text) - 1, 0, &m, &line), -EINVAL);
}

Test(maps_malformed, smaps_key_in_plain_maps)
{
    assert_bad(GOOD "Rss:                   4 kB\n", 2);
}

Test(maps_malformed, null_arguments)
{
    mw_maps_t m;

    cr_assert_eq(mw_maps_parse(NULL, 0, 0, &m, NULL), -EINVAL);
    cr_assert_eq(mw_maps_parse("", 0, 0, NULL, NULL), -EINVAL);
}

/* smaps */

Test(smaps_parse, real_capture_keeps_every_key)
{
    mw_maps_t m = parse_fixture(FIXTURE("self.smaps"), MW_MAPS_SMAPS);
    const mw_region_t *r = &m.regions[0];
    size_t i;
    int saw_thp = 0;

    cr_assert_eq(m.count, 38);
    cr_assert(r->has_smaps);
    cr_assert_geq(r->nfields, 20);
    for (i = 0; i < r->nfields; i++)
        saw_thp |= strcmp(r->fields[i].key, "THPeligible") == 0;
    cr_assert(saw_thp);
    cr_assert_eq(r->size_kb, (r->end - r->start) / 1024);
    cr_assert_not_null(r->vm_flags);
    mw_maps_free(&m);
}

Test(smaps_parse, named_figures_are_filled)
{
    static const char text[] = "00400000-00402000 rw-p 00000000 00:00 0 \n"
                               "Size:                  8 kB\n"
                               "Rss:                   4 kB\n"
                               "Pss:                   2 kB\n"
                               "Shared_Dirty:          1 kB\n"
                               "Private_Dirty:         3 kB\n"
                               "Swap:                  5 kB\n"
                               "THPeligible:    0\n"
                               "ProtectionKey:         0\n"
                               "VmFlags: rd wr mr mw me ac \n";
    mw_maps_t m;

    cr_assert_eq(mw_maps_parse(text, sizeof(text) - 1, MW_MAPS_SMAPS, &m, NULL), 0);
    cr_assert_eq(m.regions[0].rss_kb, 4);
    cr_assert_eq(m.regions[0].pss_kb, 2);
    cr_assert_eq(m.regions[0].shared_dirty_kb + m.regions[0].private_dirty_kb, 4);
    cr_assert_eq(m.regions[0].swap_kb, 5);
    cr_assert_eq(m.regions[0].nfields, 8);
    cr_assert_str_eq(m.regions[0].vm_flags, "rd wr mr mw me ac");
    mw_maps_free(&m);
}

/* The table of `maps -x` needs only the named figures: without the fields array they are the
 * same. */
Test(smaps_parse, no_fields_keeps_named_figures_and_flags)
{
    mw_maps_t all = parse_fixture(FIXTURE("self.smaps"), MW_MAPS_SMAPS);
    mw_maps_t named = parse_fixture(FIXTURE("self.smaps"), MW_MAPS_SMAPS | MW_MAPS_NO_FIELDS);
    size_t i;

    cr_assert_eq(named.count, all.count);
    for (i = 0; i < all.count; i++) {
        const mw_region_t *a = &all.regions[i], *b = &named.regions[i];
        cr_assert(b->has_smaps);
        cr_assert_null(b->fields);
        cr_assert_eq(b->nfields, 0);
        cr_assert_gt(a->nfields, 0);
        cr_assert_eq(b->size_kb, a->size_kb);
        cr_assert_eq(b->rss_kb, a->rss_kb);
        cr_assert_eq(b->pss_kb, a->pss_kb);
        cr_assert_eq(b->private_dirty_kb, a->private_dirty_kb);
        cr_assert_eq(b->swap_kb, a->swap_kb);
        cr_assert_str_eq(b->vm_flags, a->vm_flags);
        cr_assert_eq(b->kind, a->kind);
    }
    mw_maps_free(&all);
    mw_maps_free(&named);
}

/* The second region's lines take the fast path (keys in the order of the first), the first the
 * general one: both must read the same values and reject the same lines. */
#define REGION_A "00400000-00402000 rw-p 00000000 00:00 0 \n"
#define REGION_B "00402000-00403000 r--p 00000000 00:00 0 \n"
#define KEYS                                    \
    "Size:                  8 kB\n"             \
    "Rss:                   4 kB\n"             \
    "Pss:            18446744073709551615 kB\n" \
    "THPeligible:    1\n"                       \
    "VmFlags: rd wr \n"

Test(smaps_parse, fast_and_general_paths_agree)
{
    static const char text[] = REGION_A KEYS REGION_B KEYS;
    mw_maps_t m;
    size_t i;

    cr_assert_eq(mw_maps_parse(text, sizeof(text) - 1, MW_MAPS_SMAPS, &m, NULL), 0);
    cr_assert_eq(m.count, 2);
    for (i = 0; i < 2; i++) {
        const mw_region_t *r = &m.regions[i];
        cr_assert_eq(r->size_kb, 8);
        cr_assert_eq(r->rss_kb, 4);
        cr_assert_eq(r->pss_kb, UINT64_MAX);
        cr_assert_eq(r->nfields, 4);
        cr_assert_str_eq(r->fields[3].key, "THPeligible");
        cr_assert_eq(r->fields[3].value, 1);
        cr_assert_str_eq(r->vm_flags, "rd wr");
    }
    /* Equal flags words are shared, not copied. */
    cr_assert_eq(m.regions[0].vm_flags, m.regions[1].vm_flags);
    mw_maps_free(&m);
}

Test(smaps_parse, keys_in_another_order_and_new_keys)
{
    static const char text[] = REGION_A KEYS REGION_B "Rss:                   2 kB\n"
                                                      "Size:                  4 kB\n"
                                                      "Brand_New:            7 kB\n"
                                                      "VmFlags: rd \n";
    mw_maps_t m;

    cr_assert_eq(mw_maps_parse(text, sizeof(text) - 1, MW_MAPS_SMAPS, &m, NULL), 0);
    cr_assert_eq(m.regions[1].rss_kb, 2);
    cr_assert_eq(m.regions[1].size_kb, 4);
    cr_assert_eq(m.regions[1].nfields, 3);
    cr_assert_str_eq(m.regions[1].fields[2].key, "Brand_New");
    cr_assert_eq(m.regions[1].fields[2].value, 7);
    cr_assert_str_eq(m.regions[1].vm_flags, "rd");
    mw_maps_free(&m);
}

/* The kernel's fixed-width lines ("Rss:" padded to 16 columns, the value in 8, " kB") are read
 * eight digits at a time: every value field must give what the byte by byte path gives. */
Test(smaps_parse, fixed_width_values_agree_with_the_general_path)
{
    static const char *const fields[] = {
        "       0", "       7", "      42", "99999999", "12345678", "00000001",  " 1234567",
        "   12 45", "  1234x6", "        ", "1       ", "  -12345", "\t      1", "      1\0"};
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        char text[512];
        mw_maps_t a, b;
        size_t la = 0, lb = 0;
        int n = snprintf(text, sizeof(text), REGION_A KEYS REGION_B "Size:           ");
        int ra, rb;
        memcpy(text + n, fields[i], 8);
        n += 8;
        n += snprintf(text + n, sizeof(text) - (size_t)n, " kB\n");
        ra = mw__maps_parse_text(text, (size_t)n, MW_MAPS_SMAPS, &a, &la);
        rb = mw__maps_parse_text(text, (size_t)n, MW_MAPS_SMAPS | MW__MAPS_GENERAL_ONLY, &b, &lb);
        cr_assert_eq(ra, rb, "field '%.8s': %d and %d", fields[i], ra, rb);
        if (ra == 0) {
            cr_assert_eq(a.regions[1].size_kb, b.regions[1].size_kb, "field '%.8s'", fields[i]);
            cr_assert_eq(a.regions[1].size_kb, strtoull(fields[i], NULL, 10));
            mw_maps_free(&a);
            mw_maps_free(&b);
        } else {
            cr_assert_eq(la, lb, "field '%.8s'", fields[i]);
        }
    }
}

static void assert_bad_smaps(const char *text, size_t want_line)
{
    size_t line = 0;

    cr_assert_eq(parse_text(text, MW_MAPS_SMAPS, &line), -EINVAL, "accepted: %s", text);
    cr_assert_eq(line, want_line, "line %zu, want %zu for: %s", line, want_line, text);
}

/* Line 9 is the second region's Rss line, which the fast path sees first. */
Test(smaps_malformed, fast_path_rejects_what_the_general_path_rejects)
{
    assert_bad_smaps(REGION_A KEYS REGION_B "Size:                  8 kB\n"
                                            "Rss:                   4 kBx\n",
                     9);
    assert_bad_smaps(REGION_A KEYS REGION_B "Size:                  8 kB\n"
                                            "Rss:                   4 kB \n",
                     9);
    assert_bad_smaps(REGION_A KEYS REGION_B "Size:                  8 kB\n"
                                            "Rss:\t4 kB\n",
                     9);
    assert_bad_smaps(REGION_A KEYS REGION_B "Size:                  8 kB\n"
                                            "Rss:   18446744073709551616 kB\n",
                     9);
    assert_bad_smaps(REGION_A KEYS REGION_B "Size:                  8 kB\n"
                                            "Rss:                     kB\n",
                     9);
    assert_bad_smaps(REGION_A KEYS REGION_B "Size:                  8 kB\n"
                                            "Rss:                   4 MB\n",
                     9);
}

Test(smaps_malformed, nul_in_a_fast_path_line)
{
    static const char text[] = REGION_A KEYS REGION_B "Size:       \0          8 kB\n";
    size_t line = 0;
    mw_maps_t m;

    cr_assert_eq(mw_maps_parse(text, sizeof(text) - 1, MW_MAPS_SMAPS, &m, &line), -EINVAL);
    cr_assert_eq(line, 8);
}

/* More regions than fit the malloc'ed array: it moves to a mapping of its own. Repeated paths
 * share one string. */
Test(maps_parse, many_regions)
{
    const size_t n = 5000;
    mw__sb_t sb = {0};
    mw_maps_t m;
    size_t i;

    for (i = 0; i < n; i++)
        mw__sb_printf(&sb, "%lx-%lx r--p 00000000 08:01 77 %s\n", 0x10000000ul + i * 0x1000,
                      0x10001000ul + i * 0x1000, i < n / 2 ? "/lib/one.so" : "/lib/two.so");
    cr_assert_eq(sb.err, 0);
    cr_assert_eq(mw_maps_parse(sb.buf, sb.len, 0, &m, NULL), 0);
    cr_assert_eq(m.count, n);
    for (i = 0; i < n; i++) {
        cr_assert_eq(m.regions[i].start, 0x10000000ul + i * 0x1000);
        cr_assert_eq(mw_maps_find(&m, m.regions[i].start + 5), &m.regions[i]);
        cr_assert_str_eq(m.regions[i].path, i < n / 2 ? "/lib/one.so" : "/lib/two.so");
    }
    cr_assert_eq(m.regions[0].path, m.regions[n / 2 - 1].path);
    cr_assert_neq(m.regions[0].path, m.regions[n / 2].path);
    mw_maps_free(&m);
    mw__sb_free(&sb);
}

Test(smaps_malformed, key_before_any_region)
{
    size_t line = 0;

    cr_assert_eq(parse_text("Rss: 4 kB\n" GOOD, MW_MAPS_SMAPS, &line), -EINVAL);
    cr_assert_eq(line, 1);
}

Test(smaps_malformed, value_not_a_number)
{
    size_t line = 0;

    cr_assert_eq(parse_text(GOOD "Rss:   four kB\n", MW_MAPS_SMAPS, &line), -EINVAL);
    cr_assert_eq(line, 2);
}

Test(smaps_malformed, wrong_unit)
{
    size_t line = 0;

    cr_assert_eq(parse_text(GOOD "Size:  4 MB\n", MW_MAPS_SMAPS, &line), -EINVAL);
    cr_assert_eq(line, 2);
}

Test(maps_kind_names, every_kind_has_its_word)
{
    static const char *const want[] = {
        "text", "rodata", "data", "bss",      "heap",       "stack", "thread-stack", "anon",
        "file", "vdso",   "vvar", "vsyscall", "named-anon", "shm",   "guard",        "reserved"};
    size_t i;

    cr_assert_eq(sizeof(want) / sizeof(want[0]), MW_REGION_KIND_COUNT);
    for (i = 0; i < MW_REGION_KIND_COUNT; i++)
        cr_assert_str_eq(mw_region_kind_name((enum mw_region_kind)i), want[i]);
    cr_assert_str_eq(mw_region_kind_name(MW_REGION_KIND_COUNT), "?");
}

/* The reader (mw__maps_parse_fd) parses lines as they come: a line cut across reads must come
 * out whole. */

/* smaps text of n regions, about 300 bytes each, with values that differ from region to region. */
static char *smaps_text(size_t n, size_t *len)
{
    mw__sb_t sb = {0};
    size_t i;

    for (i = 0; i < n; i++) {
        mw__sb_printf(&sb, "%lx-%lx rw-p 00000000 00:00 0 %s\n", 0x20000000ul + i * 0x2000,
                      0x20001000ul + i * 0x2000, i % 3 ? "" : "/tmp/some file");
        mw__sb_printf(&sb,
                      "Size:                  4 kB\nRss:            %8zu kB\nPss:            %8zu "
                      "kB\nPrivate_Dirty:  %8zu kB\nSwap:           %8zu kB\nTHPeligible:    0\n"
                      "VmFlags: rd wr %s\n",
                      i % 5, i % 7, i % 11, i * 1000003, i % 2 ? "mr " : "");
    }
    cr_assert_eq(sb.err, 0);
    *len = sb.len;
    return mw__sb_take(&sb);
}

/* The reader parses lines as they come: a line cut across reads and chunks must come out whole.
 */
static void parse_cut_lines(unsigned flags)
{
    static const size_t pieces[] = {7, 4093, 1, 3000, 65536, 333};
    size_t len, off, k = 0, line = 0;
    char *text = smaps_text(2000, &len);
    mw_maps_t whole, streamed;
    int fds[2];
    pid_t pid;

    cr_assert_eq(mw_maps_parse(text, len, MW_MAPS_SMAPS, &whole, NULL), 0);
    cr_assert_eq(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        /* Writes of odd sizes, some read apart: boundaries fall everywhere. */
        close(fds[0]);
        for (off = 0; off < len; off += pieces[k++ % 6]) {
            size_t n = pieces[k % 6];
            if (write(fds[1], text + off, len - off < n ? len - off : n) < 0)
                _exit(1);
            if (k % 50 == 0)
                usleep(100);
        }
        _exit(0);
    }
    close(fds[1]);
    cr_assert_eq(mw__maps_parse_fd(fds[0], flags, &streamed, &line), 0, "line %zu", line);
    close(fds[0]);
    waitpid(pid, NULL, 0);
    cr_assert_eq(streamed.count, whole.count);
    for (size_t i = 0; i < whole.count; i++) {
        cr_assert_eq(streamed.regions[i].start, whole.regions[i].start);
        cr_assert_str_eq(streamed.regions[i].path, whole.regions[i].path);
        cr_assert_eq(streamed.regions[i].rss_kb, whole.regions[i].rss_kb);
        cr_assert_eq(streamed.regions[i].swap_kb, whole.regions[i].swap_kb);
        cr_assert_eq(streamed.regions[i].swap_kb, i * 1000003);
        cr_assert_eq(streamed.regions[i].nfields, whole.regions[i].nfields);
        cr_assert_str_eq(streamed.regions[i].vm_flags, whole.regions[i].vm_flags);
    }
    mw_maps_free(&whole);
    mw_maps_free(&streamed);
    free(text);
}

Test(smaps_parse, lines_cut_across_reads_are_joined)
{
    parse_cut_lines(MW_MAPS_SMAPS);
}

/* The same through the reader thread. */
Test(smaps_parse, read_ahead_joins_lines_cut_across_reads)
{
    parse_cut_lines(MW_MAPS_SMAPS | MW_MAPS_READ_AHEAD);
}
