/* Tests for MW_SHOW, MW_SHOW_PTR, MW_DIFF and mw_show_describe. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "memwalk/show.h"

int show_bss_int;
int show_data_int = 3;
static char fake_gc_chunk[256];
static char show_big_bss[1 << 20]; /* past the file: anonymous pages of this program's .bss */

/* Stands in for the collector: registered the way src/gc registers its chunks. */
static int fake_gc_contains(const void *addr)
{
    const char *p = addr;
    return p >= fake_gc_chunk && p < fake_gc_chunk + sizeof(fake_gc_chunk);
}

static int matches(const char *text, const char *re)
{
    regex_t r;
    int ok;

    cr_assert_eq(regcomp(&r, re, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
    ok = regexec(&r, text, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

/* Runs fn with stdout sent to a temporary file and returns what it printed. */
static char *capture(void (*fn)(void))
{
    static char buf[4096];
    FILE *tmp = tmpfile();
    int saved = dup(1);
    size_t n;

    cr_assert_not_null(tmp);
    fflush(stdout);
    dup2(fileno(tmp), 1);
    fn();
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(tmp);
    n = fread(buf, 1, sizeof(buf) - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return buf;
}

static void show_global(void)
{
    MW_SHOW(show_bss_int);
}

Test(show, macro_prints_label_address_kind_section_path)
{
    char *out = capture(show_global);
    char want[64];

    snprintf(want, sizeof(want), "show_bss_int: %p %lu ", (void *)&show_bss_int,
             (unsigned long)&show_bss_int);
    cr_assert(strncmp(out, want, strlen(want)) == 0, "%s", out);
    cr_assert(matches(out, "^show_bss_int: 0x[0-9a-f]+ [0-9]+ bss \\.bss /.*test_show\n$"), "%s",
              out);
}

static void show_bss_tail(void)
{
    MW_SHOW(show_big_bss[sizeof(show_big_bss) - 1]);
}

/* The end of a big .bss is in anonymous pages: the line names the program it belongs to. */
Test(show, bss_past_the_file_names_its_object)
{
    char *out = capture(show_bss_tail);

    cr_assert(matches(out,
                      "^show_big_bss\\[sizeof\\(show_big_bss\\) - 1\\]: 0x[0-9a-f]+ [0-9]+ bss "
                      "\\.bss /.*test_show\n$"),
              "%s", out);
}

static char *anon_block;

static void show_anon(void)
{
    MW_SHOW_PTR("block", anon_block);
}

/* Other anonymous memory says so. */
Test(show, anonymous_memory_says_anon)
{
    char *out;

    anon_block = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(anon_block, MAP_FAILED);
    out = capture(show_anon);
    cr_assert(matches(out, "^block: 0x[0-9a-f]+ [0-9]+ anon \\[anon\\]\n$"), "%s", out);
    munmap(anon_block, 1 << 16);
}

static void show_pointer(void)
{
    MW_SHOW_PTR("fmt", "a literal");
}

Test(show, pointer_macro_shows_the_target)
{
    char *out = capture(show_pointer);

    cr_assert(matches(out, "^fmt: 0x[0-9a-f]+ [0-9]+ rodata \\.rodata /.*test_show\n$"), "%s", out);
}

static void diff_locals(void)
{
    int pair[2] = {0, 0};
    MW_DIFF(pair[0], pair[1]);
}

Test(show, diff_prints_signed_distance)
{
    char *out = capture(diff_locals);

    cr_assert(matches(out, "^&pair\\[1\\] - &pair\\[0\\]: 0x[0-9a-f]+ - 0x[0-9a-f]+ = 4 bytes\n$"),
              "%s", out);
}

static void diff_backwards(void)
{
    int pair[2] = {0, 0};
    MW_DIFF(pair[1], pair[0]);
}

Test(show, diff_can_be_negative)
{
    char *out = capture(diff_backwards);

    cr_assert(matches(out, "= -4 bytes\n$"), "%s", out);
}

Test(show, describe_data_global)
{
    mw_show_info_t info;

    cr_assert_eq(mw_show_describe(&show_data_int, &info), 0);
    cr_assert_str_eq(info.kind, "data");
    cr_assert_str_eq(info.section, ".data");
    cr_assert_str_eq(info.perms, "rw-p");
    cr_assert(info.start <= (uintptr_t)&show_data_int && (uintptr_t)&show_data_int < info.end);
    cr_assert(strstr(info.path, "test_show") != NULL);
}

Test(show, describe_stack_and_heap)
{
    volatile int local = 0;
    char *small = malloc(24);
    mw_show_info_t info;

    cr_assert_eq(mw_show_describe((const void *)&local, &info), 0);
    cr_assert_str_eq(info.kind, "stack");
    cr_assert_str_eq(info.path, "[stack]");
    cr_assert_eq(mw_show_describe(small, &info), 0);
    cr_assert_str_eq(info.kind, "heap");
    free(small);
}

Test(show, new_mapping_refreshes_the_cache)
{
    mw_show_info_t info;
    void *p;

    cr_assert_eq(mw_show_describe(&show_data_int, &info), 0); /* cache filled */
    p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(p, MAP_FAILED);
    cr_assert_eq(mw_show_describe(p, &info), 0);
    cr_assert_str_eq(info.kind, "anon");
    cr_assert_eq(info.start, (uintptr_t)p);
    munmap(p, 1 << 20);
    cr_assert_eq(mw_show_describe(p, &info), -ENOENT);
}

Test(show, changed_region_is_not_served_stale)
{
    mw_show_info_t info;
    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    cr_assert_neq(p, MAP_FAILED);
    cr_assert_eq(mw_show_describe(p + 4096, &info), 0);
    cr_assert_str_eq(info.perms, "rw-p");
    cr_assert_eq(mprotect(p + 4096, 4096, PROT_READ), 0);
    cr_assert_eq(mw_show_describe(p + 4096, &info), 0);
    cr_assert_str_eq(info.perms, "r--p");
    cr_assert_eq(info.start, (uintptr_t)p + 4096);
    munmap(p, 3 * 4096);
}

Test(show, unmapped_address)
{
    mw_show_info_t info;
    char line[128];

    cr_assert_eq(mw_show_describe((const void *)0x10, &info), -ENOENT);
    mw_show_format("nil", (const void *)0x10, line, sizeof(line));
    cr_assert_str_eq(line, "nil: 0x10 16 unmapped");
}

Test(show, collector_memory_is_gc_heap)
{
    mw_show_info_t info;
    char line[512];

    cr_assert_eq(mw_show_describe(fake_gc_chunk + 8, &info), 0);
    cr_assert_str_eq(info.kind, "bss", "not a registered heap yet");
    cr_assert_eq(mw__heap_register("gc-heap", fake_gc_contains), 0);
    cr_assert_eq(mw_show_describe(fake_gc_chunk + 8, &info), 0);
    cr_assert_str_eq(info.kind, "gc-heap");
    mw_show_format("obj", fake_gc_chunk + 8, line, sizeof(line));
    cr_assert(matches(line, "^obj: 0x[0-9a-f]+ [0-9]+ gc-heap "), "%s", line);
}

Test(show, format_truncates_like_snprintf)
{
    char small[8];
    int n = mw_show_format("label", &show_data_int, small, sizeof(small));

    cr_assert_gt(n, 7);
    cr_assert_str_eq(small, "label: ");
}

static void *thread_describe(void *arg)
{
    volatile int local = 0;
    mw_show_info_t *info = arg;

    return (void *)(intptr_t)mw_show_describe((const void *)&local, info);
}

Test(show, thread_local_is_thread_stack)
{
    mw_show_info_t info;
    pthread_t t;
    void *rc;

    cr_assert_eq(pthread_create(&t, NULL, thread_describe, &info), 0);
    pthread_join(t, &rc);
    cr_assert_eq((intptr_t)rc, 0);
    cr_assert_str_eq(info.kind, "thread-stack");
}

Test(show, after_fork_the_child_sees_its_own_map)
{
    mw_show_info_t info;
    pid_t pid;
    int st;

    cr_assert_eq(mw_show_describe(&show_data_int, &info), 0); /* query fd opened in the parent */
    pid = fork();
    if (pid == 0) {
        void *p = mmap(NULL, 65536, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        _exit(mw_show_describe(p, &info) == 0 && info.start == (uintptr_t)p ? 0 : 1);
    }
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

Test(show, describe_null_output_is_einval)
{
    cr_assert_eq(mw_show_describe(&show_data_int, NULL), -EINVAL);
}
