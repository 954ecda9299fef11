/* Shared helpers of the leak checker's tests: running a tool on a program with a timeout, and
 * reading memcheck-style reports back into numbers. */
#ifndef MEMWALK_TESTS_LEAKS_HARNESS_H
#define MEMWALK_TESTS_LEAKS_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define LK_MEMWALK MW_BUILD_DIR "/memwalk"
#define LK_VICTIMS MW_BUILD_DIR "/tests/leaks/victims"

/* Every figure of one process's HEAP SUMMARY and LEAK SUMMARY. */
struct lk_summary {
    int pid;
    uint64_t in_use_bytes, in_use_blocks;
    uint64_t allocs, frees, allocated;
    uint64_t bytes[5], blocks[5]; /* definite, indirect, possible, reachable, suppressed */
    uint64_t heur_bytes[4], heur_blocks[4]; /* "of which reachable via heuristic" lines */
    int all_freed;                          /* "All heap blocks were freed" */
    int have_heap, have_leak;
};

enum { LK_STDOUT_NULL, LK_STDOUT_PTY };

/* Runs argv with stdin and stdout from /dev/null (or stdout on a pseudo-terminal) and stderr to
 * err_path (NULL: /dev/null); kills it after timeout_s. Returns the wait status, or -1. */
int lk_run(char *const argv[], int stdout_mode, const char *err_path, int timeout_s);

/* Parses every "==PID==" report in the file; returns the number of processes found. */
size_t lk_parse_report(const char *path, struct lk_summary *out, size_t max);

/* The loss records of process pid in a report text, one line each, in the report's order:
 * "B bytes in N blocks are KIND in loss record I of M", then with frames, " | " and each
 * frame's function and (file:line) when printed, without addresses or module paths (which
 * differ between tools), so that two tools' reports compare as strings. malloc'd. */
char *lk_loss_records(const char *text, int pid, int frames);

/* Reads a whole file into a NUL-terminated malloc'd string (NULL on error). */
char *lk_slurp(const char *path);

/* A fresh directory under /tmp, removed by lk_cleanup. */
char *lk_tmpdir(void);
void lk_cleanup(char *dir);

#endif
