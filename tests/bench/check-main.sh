#!/usr/bin/env bash
# Checks mw_bench_main through the bench_self program: each output format parses (JSON with
# python3, SVG with xmllint), the filter and the baseline work, bad usage exits with 2.
# Usage: check-main.sh BENCH_SELF
set -u
prog=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "check-main: $*"; failed=$((failed + 1)); }
quick="--samples 3 --min-time 0.5"

# The table: the environment header, one row per benchmark that matches, ratios to the baseline.
"$prog" $quick --filter '^(empty|keep_int)$' --baseline empty >"$tmp/text" 2>"$tmp/err" ||
  fail "text run failed: $(cat "$tmp/err")"
grep -q '^# cpu: ' "$tmp/text" || fail "no environment header"
grep -Eq '^empty +[0-9]+ +3 .* 1\.00x$' "$tmp/text" || fail "no 'empty' row at 1.00x"
grep -q '^keep_int ' "$tmp/text" || fail "no 'keep_int' row"
grep -q '^getrusage ' "$tmp/text" && fail "the filter let getrusage through"

# JSON parses and carries the results and the environment.
"$prog" $quick --filter 'empty|malloc_free_64' --json >"$tmp/json" || fail "--json run failed"
python3 - "$tmp/json" <<'PY' || fail "JSON output is not what it should be"
import json, sys
d = json.load(open(sys.argv[1]))
names = [r["name"] for r in d["results"]]
assert names == ["empty", "malloc_free_64"], names
for r in d["results"]:
    w = r["wall_ns"]
    assert w["min"] <= w["median"] <= w["max"], w
    assert r["samples"] == 3 and r["iters"] >= 1
assert d["env"]["cpus"] >= 1
PY

# CSV: a header and one row per result, all with the same number of fields.
"$prog" $quick --filter 'clock' --csv >"$tmp/csv" || fail "--csv run failed"
[ "$(wc -l <"$tmp/csv")" -eq 2 ] || fail "CSV: expected a header and one row"
[ "$(awk -F, '{print NF}' "$tmp/csv" | sort -u | wc -l)" -eq 1 ] || fail "CSV: ragged rows"

# SVG: well-formed XML naming the benchmarks.
"$prog" $quick --filter 'empty|keep' --svg "$tmp/chart.svg" >/dev/null || fail "--svg run failed"
xmllint --noout "$tmp/chart.svg" 2>"$tmp/err" || fail "SVG is not well-formed: $(cat "$tmp/err")"
grep -q '>keep_int</text>' "$tmp/chart.svg" || fail "SVG does not name keep_int"

# Under valgrind the header says so and warns (times there are a simulated CPU's).
valgrind -q "$prog" --filter '^empty$' --samples 1 --min-time 0.1 >"$tmp/vg" 2>&1 ||
  fail "run under valgrind failed: $(cat "$tmp/vg")"
grep -q 'valgrind: yes' "$tmp/vg" || fail "valgrind not detected"
grep -q '^# warning: running under valgrind' "$tmp/vg" || fail "no valgrind warning"

# --list prints names only.
[ "$("$prog" --list --filter 'malloc')" = "$(printf 'malloc_free_64\nmalloc_free_1m')" ] ||
  fail "--list --filter malloc"

# Bad usage: exit 2 and one line on stderr; an unwritable SVG: exit 3 before running anything.
for args in "--filter ([" "--samples 0" "--min-time x" "--csv --json" "--bogus" \
            "--baseline nothing" "extra-arg" "--filter nomatch" "--svg - --json"; do
  # shellcheck disable=SC2086
  "$prog" $args >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "'$args': exit status $rc, expected 2"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "'$args': expected one error line, got: $(cat "$tmp/err")"
done
"$prog" --svg /nonexistent/dir/x.svg >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 3 ] || fail "unwritable --svg: exit status $rc, expected 3"
[ -s "$tmp/out" ] && fail "unwritable --svg: benchmarks ran anyway"
"$prog" --help | grep -q -- '--baseline NAME' || fail "--help"

# --svg -: the chart alone on standard output, the table on standard error.
"$prog" $quick --filter '^empty$' --svg - >"$tmp/stdout.svg" 2>"$tmp/err" || fail "--svg - failed"
xmllint --noout "$tmp/stdout.svg" 2>/dev/null || fail "--svg -: standard output is not one SVG"
grep -q '^empty ' "$tmp/err" || fail "--svg -: the table is not on standard error"
[ -e ./- ] && fail "--svg - created a file named '-'"

# MW_BENCH(x, f); is clean under -pedantic, with both compilers.
for cc in gcc clang; do
  command -v $cc >/dev/null || continue
  $cc -std=gnu11 -pedantic -Wall -Wextra -Werror -Iinclude -c tests/bench/bench_self.c \
    -o "$tmp/pedantic.o" 2>"$tmp/err" || fail "$cc -pedantic: $(cat "$tmp/err")"
done

if [ "$failed" -ne 0 ]; then
  echo "check-main: $failed checks failed"
  exit 1
fi
echo "check-main: ok: text, JSON, CSV, SVG (file and stdout), filter, baseline, list, bad usage, -pedantic"
