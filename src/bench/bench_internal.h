/* Internal helpers shared by the files of the benchmark harness and by `memwalk bench`. */
#ifndef MEMWALK_BENCH_INTERNAL_H
#define MEMWALK_BENCH_INTERNAL_H

#include <memwalk/bench.h>

#include "common/common.h"

/* Formats a duration given in nanoseconds with a unit chosen for it: "850 ns", "3.10 us",
 * "12.5 ms", "2.00 s" (NaN gives "-"). Returns buf. */
const char *mw__bench_format_ns(double ns, char *buf, size_t len);

/* The unit a duration of ns nanoseconds reads best in ("s", "ms", "us", "ns"), and in *scaled
 * the duration in that unit. */
const char *mw__bench_ns_unit(double ns, double *scaled);

/* Writes one result as a JSON object under key (NULL in an array); relative is the ratio to the
 * baseline or NaN (null). */
void mw__bench_result_json(mw__json_t *j, const char *key, const mw_bench_result_t *r,
                           double relative);

/* Writes the environment as a JSON object under key, warnings included. */
void mw__bench_env_json(mw__json_t *j, const char *key, const mw_bench_env_t *env);

/* The warnings that apply to env, one sentence each, without the "warning: " prefix. Writes at
 * most max of them into lines (each of MW__BENCH_LINE bytes) and returns how many apply. */
#define MW__BENCH_LINE 192
size_t mw__bench_env_warnings(const mw_bench_env_t *env, char (*lines)[MW__BENCH_LINE], size_t max);

/* Writes sb to out and frees it. Returns 0, -ENOMEM (sb->err) or -EIO. */
int mw__bench_flush(FILE *out, mw__sb_t *sb);

#endif
