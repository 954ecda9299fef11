#!/usr/bin/env bash
# Checks `memwalk bench` end to end: one full run (JSON + SVG, as a user runs it), quick runs in
# text and CSV, and the failure paths (bad experiment, bad option, unwritable file).
# Usage: check-cli.sh MEMWALK
set -u
memwalk=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "check-cli: $*"; failed=$((failed + 1)); }

# A full run of every experiment on a small budget (what is cut to fit is reported): JSON
# carrying every value, and the chart.
start=$(date +%s%N)
"$memwalk" bench --budget 4 --json --svg "$tmp/bench.svg" >"$tmp/full.json" 2>"$tmp/err" ||
  fail "full run failed: $(cat "$tmp/err")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
python3 - "$tmp/full.json" <<'PY' || fail "full run: JSON is not what it should be"
import json, sys
d = json.load(open(sys.argv[1]))
names = [e["name"] for e in d["experiments"]]
assert names == ["stack-vs-heap", "reuse", "sizes", "first-touch"], names
assert d["quick"] is False and d["env"]["cpus"] >= 1
assert d["budget_s"] == 4 and d["fault_ns"] > 0 and d["seconds"] > 0
spent = 0
for e in d["experiments"]:
    assert e["conclusion"].startswith("- "), e["name"]
    assert e["data"]["verdicts"], e["name"]
    for v in e["data"]["verdicts"].values():
        assert v in ("holds", "contradicted", "unclear"), v
    assert 0 < e["data"]["budget_s"] <= 4 and e["data"]["estimate_s"] > 0, e["name"]
    assert e["data"]["cut"] is None or isinstance(e["data"]["cut"], str)
    # Each share is a part of what the experiments before it left (0.05 s at least).
    assert e["data"]["budget_s"] <= max(4 - spent, 0.05) + 0.01, (e["name"], spent)
    spent += e["seconds"]
svh = d["experiments"][0]["data"]
assert [c["result"]["name"] for c in svh["cases"]] == ["stack", "heap+free", "heap, no free"]
assert svh["cases"][2]["distinct_addresses"] == svh["fills"] and svh["fills"] >= 100
assert (svh["fills"] < 1000) == ("fills" in (svh["cut"] or ""))
sizes = d["experiments"][2]["data"]
assert sizes["rows"][0]["size"] == 16 and sizes["rows"][-1]["size"] == sizes["max_size_planned"]
assert len(sizes["rows"]) == [r["size"] for r in sizes["rows"]].index(sizes["max_size_planned"]) + 1
assert (sizes["max_size_planned"] < 64 << 20) == ("left out" in (sizes["cut"] or ""))
for row in sizes["rows"]:
    for mode in ("default", "pinned"):
        w = row[mode]["result"]["wall_ns"]
        assert 0 < w["min"] <= w["median"] <= w["max"], w
PY
xmllint --noout "$tmp/bench.svg" 2>"$tmp/err" || fail "SVG is not well-formed: $(cat "$tmp/err")"
for title in 'stack-vs-heap: ' 'reuse: ' 'sizes: malloc' 'first-touch: '; do
  grep -q ">$title" "$tmp/bench.svg" || fail "SVG has no chart titled '$title...'"
done
grep -q 'time per fill (log scale)' "$tmp/bench.svg" || fail "SVG: stack-vs-heap not on a log scale"

# --svg -: the charts alone on standard output, the text report on standard error.
"$memwalk" bench --quick --budget 1 reuse --svg - >"$tmp/stdout.svg" 2>"$tmp/err" ||
  fail "--svg - failed: $(cat "$tmp/err")"
xmllint --noout "$tmp/stdout.svg" 2>/dev/null || fail "--svg -: standard output is not one SVG"
grep -q '^What this run shows:' "$tmp/err" || fail "--svg -: no text report on standard error"
grep -q '^memwalk bench: .* for a budget of 1 s' "$tmp/err" || fail "--svg -: no budget line"
[ -e ./- ] && fail "--svg - created a file named '-'"

# Quick text run of one experiment: the measured table and the conclusion.
"$memwalk" bench --quick --budget 1 first-touch >"$tmp/text" || fail "quick text run failed"
grep -q '^# cpu: ' "$tmp/text" || fail "text: no environment header"
grep -q '^first-touch: ' "$tmp/text" || fail "text: no first-touch section"
grep -q '^What this run shows:' "$tmp/text" || fail "text: no conclusion"
grep -q '^stack-vs-heap' "$tmp/text" && fail "text: ran an experiment not asked for"

# Quick CSV of two experiments: one header, rectangular rows.
"$memwalk" bench --quick --budget 1.5 --csv reuse stack-vs-heap >"$tmp/csv" ||
  fail "quick CSV run failed"
head -n 1 "$tmp/csv" | grep -q '^experiment,case,bytes,per,' || fail "CSV: no header"
python3 - "$tmp/csv" <<'PY' || fail "CSV: not rectangular or rows missing"
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
assert len({len(r) for r in rows}) == 1
assert sum(r[0] == "reuse" for r in rows) == 8 and sum(r[0] == "stack-vs-heap" for r in rows) == 3
PY

# Failure paths: one line on stderr, documented exit statuses, nothing run for nothing.
expect() { # expect STATUS PATTERN ARGS...
  local want=$1 pattern=$2
  shift 2
  "$memwalk" bench "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "bench $*: exit status $rc, expected $want"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "bench $*: expected one error line: $(cat "$tmp/err")"
  grep -Eq "$pattern" "$tmp/err" || fail "bench $*: error does not match /$pattern/: $(cat "$tmp/err")"
  [ -s "$tmp/out" ] && fail "bench $*: printed a report anyway"
}
expect 2 '^memwalk: bench: nope: no such experiment' nope
expect 2 '^memwalk: bench: --bogus: unknown option' --bogus
expect 2 '^memwalk: bench: --svg: option requires an argument' --svg
expect 2 '^memwalk: bench: --csv, --json: choose one' --csv --json
expect 3 '^memwalk: bench: /nonexistent/x.svg: No such file' --svg /nonexistent/x.svg
expect 3 "^memwalk: bench: $tmp: Is a directory" --svg "$tmp"
expect 2 '^memwalk: bench: --svg: empty file name' --svg ''
expect 2 '^memwalk: bench: --svg -: --json also writes to standard output' --svg - --json
expect 2 "^memwalk: bench: --budget: 'x': expected seconds" --budget x
expect 2 "^memwalk: bench: --budget: '0': expected seconds" --budget 0
"$memwalk" bench --help | grep -q '^usage: memwalk bench' || fail "--help"
"$memwalk" help bench | grep -q 'first-touch' || fail "help bench"
[ "$("$memwalk" bench --list | wc -l)" -eq 4 ] || fail "--list"
"$memwalk" --help | grep -q '^  bench ' || fail "memwalk --help does not list bench"

if [ "$failed" -ne 0 ]; then
  echo "check-cli: $failed checks failed"
  exit 1
fi
echo "check-cli: ok: full run (4 s budget) in $((ms / 1000)).$((ms % 1000 / 100))s ($(uptime | sed 's/.*load average/load average/')), quick text and CSV, failure paths"
