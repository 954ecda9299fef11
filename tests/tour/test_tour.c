/* Tests for `memwalk tour`: its structure, its JSON record, its output rules, and that each
 * section's conclusion follows from the values it measured. */
#include <criterion/criterion.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/run.h"

#define MEMWALK MW_BUILD_DIR "/memwalk"

/* Checks a JSON document with python3's parser plus an expression over it (`d`); returns the
 * expression's printed value. */
static char *json_eval(const char *json_cmd, const char *expr)
{
    char cmd[2048];
    int st;
    snprintf(cmd, sizeof cmd,
             "%s | python3 -c 'import json,sys; d=json.load(sys.stdin); print(%s)'", json_cmd,
             expr);
    char *out = run(cmd, &st);
    cr_assert_eq(st, 0, "command failed: %s", cmd);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

Test(tour_cli, lists_sections_and_rejects_unknown_ones)
{
    int st;
    char *out = run(MEMWALK " tour --list", &st);
    cr_assert_eq(st, 0);
    cr_assert_not_null(strstr(out, "2  stack "));
    cr_assert_not_null(strstr(out, "3  depth "));
    free(out);
    out = run(MEMWALK " tour --section nosuch 2>&1", &st);
    cr_assert_eq(WEXITSTATUS(st), 2);
    cr_assert_not_null(strstr(out, "memwalk: tour: nosuch: no such section"));
    free(out);
    out = run(MEMWALK " tour --section 9 2>&1", &st);
    cr_assert_eq(WEXITSTATUS(st), 2);
    cr_assert_not_null(strstr(out, "memwalk: tour: 9: no such section"));
    free(out);
    out = run(MEMWALK " tour --json --html x.html 2>&1", &st);
    cr_assert_eq(WEXITSTATUS(st), 2);
    free(out);
    out = run(MEMWALK " tour --help", &st);
    cr_assert_eq(st, 0);
    cr_assert_not_null(strstr(out, "memwalk tour --list"), "--list in the usage lines");
    cr_assert_not_null(strstr(out, "--html FILE"));
    cr_assert_not_null(strstr(out, "--wide"));
    free(out);
    out = run(MEMWALK " tour --bogus 2>&1", &st);
    cr_assert_eq(WEXITSTATUS(st), 2);
    cr_assert_not_null(strstr(out, "memwalk: tour: --bogus: unknown option"));
    free(out);
}

Test(tour_json, every_section_has_status_values_and_a_conclusion)
{
    char *v = json_eval(MEMWALK " tour --json",
                        "all(s[\"status\"] in (\"ok\",\"skipped\") and "
                        "(s[\"status\"]==\"skipped\" or len(s[\"conclusions\"])>0) and "
                        "isinstance(s[\"values\"], dict) for s in d[\"sections\"]) and "
                        "len(d[\"sections\"])>=2");
    cr_assert_str_eq(v, "True");
    free(v);
}

Test(tour_json, one_section_only)
{
    char *v =
        json_eval(MEMWALK " tour --json --section depth", "[s[\"name\"] for s in d[\"sections\"]]");
    cr_assert_str_eq(v, "['depth']");
    free(v);
}

Test(tour_json, several_sections_by_number_and_name_in_tour_order)
{
    char *v = json_eval(MEMWALK " tour --json -s gc -s 2 --section 3",
                        "[(s[\"index\"], s[\"name\"]) for s in d[\"sections\"]]");
    cr_assert_str_eq(v, "[(2, 'stack'), (3, 'depth'), (8, 'gc')]");
    free(v);
}

Test(tour_json, background_is_apart_from_conclusions)
{
    /* Section 1 says what the loader does as background; no conclusion is marked so. */
    char *v = json_eval(MEMWALK " tour --json -s 1",
                        "(len(d[\"sections\"][0][\"background\"]) >= 1, "
                        "all(\"text\" in b for b in d[\"sections\"][0][\"background\"]))");
    cr_assert_str_eq(v, "(True, True)");
    free(v);
}

Test(tour_stack, conclusion_matches_measured_frames)
{
    /* grows_down must be computed from the addresses, and the conclusion must agree with it. */
    char *v =
        json_eval(MEMWALK " tour --json --section stack",
                  "(lambda v, c: v[\"grows_down\"] == all(v[\"nested_calls\"][i][\"local\"] < "
                  "v[\"nested_calls\"][i-1][\"local\"] for i in range(1,4)) and "
                  "c[0][\"expected\"] == v[\"grows_down\"])(d[\"sections\"][0][\"values\"], "
                  "d[\"sections\"][0][\"conclusions\"])");
    cr_assert_str_eq(v, "True");
    free(v);
}

Test(tour_stack, tail_call_conclusion_matches_distinct_stack_pointers)
{
    char *v = json_eval(MEMWALK " tour --json --section stack",
                        "(lambda v, c: c[-1][\"expected\"] == (v[\"tail_distinct_sp\"] == 1 and "
                        "v[\"plain_distinct_sp\"] == 11) and v[\"tail_result\"] == 3628800 and "
                        "v[\"plain_result\"] == 3628800)(d[\"sections\"][0][\"values\"], "
                        "d[\"sections\"][0][\"conclusions\"])");
    cr_assert_str_eq(v, "True");
    free(v);
}

Test(tour_depth, overflow_is_caught_and_accounted)
{
    /* depth x frame must explain the stack used, and the verdict must follow the percentage. */
    char *v =
        json_eval(MEMWALK " tour --json --section depth",
                  "(lambda v, c: v[\"depth\"] > 1000 and abs(v[\"depth\"]*v[\"frame_bytes\"] - "
                  "v[\"used_bytes\"]) <= 2*v[\"frame_bytes\"] and c[0][\"expected\"] == "
                  "(90 < v[\"used_percent\"] <= 100.5))(d[\"sections\"][0][\"values\"], "
                  "d[\"sections\"][0][\"conclusions\"])");
    cr_assert_str_eq(v, "True");
    free(v);
}

Test(tour_text, fits_80_columns_without_colour_on_a_pipe, .timeout = 120)
{
    int st;
    char *out = run(MEMWALK " tour", &st);
    cr_assert_eq(WEXITSTATUS(st), 0);
    cr_assert_null(strchr(out, '\033'), "no escape codes when stdout is a pipe");
    /* The end: the map's SVG and the next steps. */
    cr_assert_not_null(strstr(out, "drawn by `memwalk maps --svg`:\n  /"));
    cr_assert_not_null(strstr(out, "\nNext steps:\n"));
    cr_assert_not_null(strstr(out, "memwalk leaks -- ./yourprog"));
    cr_assert_not_null(strstr(out, "#include <memwalk/gc.h>"));
    char *svg = strstr(out, "--svg`:\n  ");
    if (svg) {
        char path[256];
        cr_assert_eq(sscanf(svg + 9, "%255s", path), 1);
        cr_assert_eq(access(path, R_OK), 0, "the map %s was not written", path);
        unlink(path);
    }
    /* Section 1 shows a short map of the process itself. */
    cr_assert_not_null(strstr(out, "The map of this process (memwalk maps, shortened)"));
    cr_assert_not_null(strstr(out, " heap                 [heap]"));
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
        cr_assert_leq(strlen(line), 80, "line over 80 columns: %s", line);
    free(out);
}

Test(tour_text, wide_uses_more_columns)
{
    int st;
    char *out = run(MEMWALK " tour --wide -s 1", &st);
    size_t longest = 0;
    cr_assert_eq(WEXITSTATUS(st), 0);
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
        longest = strlen(line) > longest ? strlen(line) : longest;
    cr_assert_gt(longest, 80, "--wide: the heading rule is wider than 80");
    cr_assert_leq(longest, 120);
    free(out);
}

/* Runs the tour on a pseudo-terminal and returns what it printed. */
static char *run_on_pty(const char *arg)
{
    int master, st;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        unsetenv("NO_COLOR");
        execl(MEMWALK, "memwalk", "tour", "--section", "depth", arg, (char *)NULL);
        _exit(127);
    }
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = read(master, buf + len, cap - len - 1)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    waitpid(pid, &st, 0);
    close(master);
    return buf;
}

Test(tour_text, colour_on_a_terminal_unless_disabled)
{
    char *out = run_on_pty(NULL);
    cr_assert_not_null(strchr(out, '\033'), "colour expected on a terminal");
    free(out);
    out = run_on_pty("--no-color");
    cr_assert_null(strchr(out, '\033'), "--no-color must remove every escape code");
    free(out);
}

/* Index of a section in the full --json run, by name, as a python expression. */
#define SECTION(name) "[s for s in d[\"sections\"] if s[\"name\"]==\"" name "\"][0]"

Test(tour_where, kinds_match_the_conclusion_count)
{
    char *v = json_eval(
        MEMWALK " tour --json --section where",
        "(lambda s: s[\"values\"][\"matched\"] == sum(1 for i in "
        "s[\"values\"][\"items\"] if i[\"kind\"] == i[\"expected_kind\"] or "
        "(i[\"label\"] in (\"malloc(16)\", \"thread_counter\") and i[\"kind\"] in "
        "(\"heap\",\"anon\",\"data\",\"bss\"))) and s[\"conclusions\"][-1][\"expected\"] "
        "== (s[\"values\"][\"matched\"] == s[\"values\"][\"total\"]))(" SECTION("where") ")");
    cr_assert_str_eq(v, "True");
    free(v);
}

Test(tour_where, globals_and_locals_are_where_the_build_puts_them)
{
    /* These hold for any gcc/clang build of memwalk on Linux: a real regression if they move. */
    char *v = json_eval(
        MEMWALK " tour --json --section where",
        "{i[\"label\"]: i[\"kind\"] for i in " SECTION(
            "where") "[\"values\"][\"items\"]}"
                     "[\"global_zero\"] + \" \" + {i[\"label\"]: i[\"kind\"] for i in " SECTION(
                         "where") "[\"values\"][\"items\"]}[\"outer_local\"]");
    cr_assert_str_eq(v, "bss stack");
    free(v);
}

Test(tour_python, recursion_and_tail_calls_are_measured)
{
    int st;
    char *out = run("command -v python3 >/dev/null", &st);
    free(out);
    if (st != 0)
        cr_skip_test("python3 is not installed");
    char *v = json_eval(
        MEMWALK " tour --json --section python",
        "(lambda v: v[\"python_depth\"] <= v[\"recursion_limit\"] < v[\"c_depth\"] and "
        "v[\"tail_call_failed\"] and v[\"tail_calls_before_error\"] <= "
        "v[\"recursion_limit\"] and v[\"small_int_lo\"] <= -5 and v[\"small_int_hi\"] >= 256 "
        "and len([o for o in v[\"objects\"] if o[\"expr\"].startswith(\"frame\")]) == 4 and "
        "not v[\"frames_on_stack\"])(" SECTION("python") "[\"values\"])");
    cr_assert_str_eq(v, "True");
    free(v);
}

Test(tour_python, small_int_verdict_follows_its_region)
{
    int st;
    char *out = run("command -v python3 >/dev/null", &st);
    free(out);
    if (st != 0)
        cr_skip_test("python3 is not installed");
    char *v =
        json_eval(MEMWALK " tour --json --section python",
                  "(lambda s: s[\"status\"] == \"ok\" and s[\"values\"][\"small_int_cached\"] and "
                  "not s[\"values\"][\"big_int_cached\"] and s[\"conclusions\"][1][\"expected\"] "
                  "== (s[\"values\"][\"objects\"][0][\"kind\"] in (\"data\",\"bss\")))(" SECTION(
                      "python") ")");
    cr_assert_str_eq(v, "True");
    free(v);
}

Test(tour_stack_heap, conclusions_follow_the_experiments_verdicts, .timeout = 120)
{
    char *v = json_eval(MEMWALK " tour --json --section stack-heap",
                        "(lambda s, v: [c[\"expected\"] for c in s[\"conclusions\"]] == "
                        "[v[\"stack-vs-heap\"][\"cases\"][1][\"distinct_addresses\"] <= 2, "
                        "v[\"stack-vs-heap\"][\"verdicts\"][\"leak_slower\"] == \"holds\" and "
                        "v[\"stack-vs-heap\"][\"verdicts\"][\"leak_faults\"] == \"holds\", "
                        "v[\"reuse\"][\"verdicts\"][\"small_reused\"] == \"holds\", "
                        "v[\"reuse\"][\"verdicts\"][\"big_mmapped\"] == \"holds\", "
                        "v[\"reuse\"][\"verdicts\"][\"threshold_grew\"] == \"holds\", "
                        "v[\"sizes\"][\"verdicts\"][\"step_at_threshold\"] == \"holds\", "
                        "v[\"sizes\"][\"verdicts\"][\"default_avoids\"] == \"holds\"])(" SECTION(
                            "stack-heap") ", " SECTION("stack-heap") "[\"values\"])");
    cr_assert_str_eq(v, "True");
    free(v);
}

Test(tour_stack_heap, malloc_state_is_fresh_after_section_one, .timeout = 120)
{
    /* Section 1 frees a 1 MiB block, which raises glibc's threshold in the tour's process; the
     * reuse experiment runs in a fresh process, where 1 MiB is mapped at first, once. */
    char *v = json_eval(MEMWALK " tour --json -s 1 -s 4",
                        "[(r[\"size\"], r[\"mmapped\"]) for r in " SECTION(
                            "stack-heap") "[\"values\"][\"reuse\"][\"rows\"] if "
                                          "r[\"threshold\"] == \"default\" and r[\"size\"] "
                                          "> 131072]");
    cr_assert_str_eq(v, "[(262144, 1), (1048576, 1)]");
    free(v);
}

Test(tour_stack_heap, leaking_fills_get_fresh_addresses)
{
    /* Counts, not times: without free every fill of a run has its own block. */
    char *v = json_eval(MEMWALK " tour --json --section stack-heap",
                        "(lambda x: [c[\"distinct_addresses\"] for c in x[\"cases\"]] == [1, 1, "
                        "x[\"fills\"]])(" SECTION("stack-heap") "[\"values\"][\"stack-vs-heap\"])");
    cr_assert_str_eq(v, "True", "distinct addresses (stack, heap+free, no free): %s", v);
    free(v);
}

Test(tour_cleanup, cleanups_ran_in_reverse_and_released_everything)
{
    char *v =
        json_eval(MEMWALK " tour --json --section cleanup",
                  "(lambda s: s[\"values\"][\"scope_order\"] == \"p2 p1\" and "
                  "s[\"values\"][\"taken_survived_scope\"] and "
                  "s[\"values\"][\"loop_cleanups\"] == s[\"values\"][\"loop_iterations\"] == 3 "
                  "and s[\"values\"][\"fd_closed\"] and s[\"values\"][\"points_made\"] == "
                  "s[\"values\"][\"points_freed\"] and "
                  "s[\"values\"][\"points_freed_by_hand\"] == 1 and all(c[\"expected\"] for c in "
                  "s[\"conclusions\"]))(" SECTION("cleanup") ")");
    cr_assert_str_eq(v, "True");
    free(v);
}

Test(tour_gc, finalizers_run_once_for_each_dropped_point)
{
    char *v =
        json_eval(MEMWALK " tour --json --section gc",
                  "(lambda v, c: v[\"kept_kind\"] == \"gc-heap\" and v[\"finalized_first\"] "
                  "== v[\"dropped\"] == 5 and v[\"finalized_second\"] == 1 and "
                  "v[\"finalized_kept\"] == 1 and v[\"finalized_total\"] == 6 and "
                  "v[\"stats_after\"][\"collections\"] >= 3 and all(x[\"expected\"] for x "
                  "in c))(" SECTION("gc") "[\"values\"], " SECTION("gc") "[\"conclusions\"])");
    cr_assert_str_eq(v, "True");
    free(v);
}

Test(tour_leaks, the_seed_reports_number_for_number)
{
    char *v = json_eval(
        MEMWALK " tour --json --section leaks",
        "(lambda v, c: v[\"memwalk_leak\"][\"definitely_lost_bytes\"] == 16 and "
        "v[\"memwalk_leak\"][\"definitely_lost_blocks\"] == 2 and "
        "v[\"memwalk_fixed\"][\"in_use_bytes\"] == 0 and v[\"memwalk_fixed\"][\"all_freed\"] and "
        "v[\"memwalk_fixed\"][\"allocs\"] == v[\"memwalk_fixed\"][\"frees\"] == 3 and (not "
        "v[\"valgrind\"] or (v[\"valgrind_leak\"] == v[\"memwalk_leak\"] and "
        "v[\"valgrind_fixed\"] == v[\"memwalk_fixed\"])) and all(x[\"expected\"] for x in "
        "c))(" SECTION("leaks") "[\"values\"], " SECTION("leaks") "[\"conclusions\"])");
    cr_assert_str_eq(v, "True");
    free(v);
}

Test(tour_leaks, the_whole_tour_under_memwalk_leaks_loses_nothing, .timeout = 120)
{
    char json[] = "/tmp/memwalk-tour-leaks-XXXXXX";
    int fd = mkstemp(json), st;
    char cmd[512], *out;

    cr_assert_geq(fd, 0);
    close(fd);
    snprintf(cmd, sizeof cmd, MEMWALK " leaks -q --json=%s -- " MEMWALK " tour >/dev/null 2>&1",
             json);
    out = run(cmd, &st);
    free(out);
    cr_assert_eq(WEXITSTATUS(st), 0, "the tour under memwalk leaks exited with %d", st);
    snprintf(cmd, sizeof cmd, "cat %s", json);
    char *v =
        json_eval(cmd, "(len(d[\"processes\"]) >= 1, sum(p[\"leaks\"][\"definite\"][\"bytes\"] "
                       "+ p[\"leaks\"][\"indirect\"][\"bytes\"] for p in d[\"processes\"]))");
    unlink(json);
    cr_assert_str_eq(v, "(True, 0)", "(processes reported, bytes definitely+indirectly lost): %s",
                     v);
    free(v);
}
