#!/usr/bin/env bash
# Every output option of the commands: '-' is standard output (never a file named '-'), and an
# output path that cannot be written fails with status 3 before any work is done. Also `leaks` on
# a directory says so. Usage: check-outputs.sh MEMWALK
set -u
memwalk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
failed=0
fail() { echo "check-outputs: $*"; failed=$((failed + 1)); }
point=$(dirname "$memwalk")/examples/point_fixed

# '-': standard output.
"$memwalk" leaks -q --json=- -- "$point" >out 2>/dev/null || fail "leaks --json=- failed"
grep -q '"tool":"memwalk leaks"' out || fail "leaks --json=-: no JSON on standard output"
"$memwalk" bench --quick --budget 0.5 reuse --svg - >out 2>/dev/null || fail "bench --svg - failed"
grep -q '^<svg' out || fail "bench --svg -: no SVG on standard output"
"$memwalk" maps --svg - >out 2>/dev/null || fail "maps --svg - failed"
grep -q '^<svg' out || fail "maps --svg -: no SVG on standard output"
"$memwalk" tour -s 7 --html - >out 2>/dev/null || fail "tour --html - failed"
grep -q '^<!DOCTYPE html>' out || fail "tour --html -: no page on standard output"
[ -e ./- ] && fail "a file named '-' was created"

# Unwritable paths: status 3, one line, and nothing run (the traced program would print).
expect3() { # expect3 WHAT ARGS...
  local what=$1
  shift
  local t0 rc
  t0=$(date +%s%N)
  "$memwalk" "$@" >out 2>err
  rc=$?
  [ "$rc" -eq 3 ] || fail "$what: status $rc, expected 3"
  [ "$(wc -l <err)" -eq 1 ] || fail "$what: not one error line: $(cat err)"
  [ -s out ] && fail "$what: work was done: $(head -c 200 out)"
  [ $((($(date +%s%N) - t0) / 1000000)) -lt 2000 ] || fail "$what: took time before failing"
}
for bad in /nonexistent/dir/x "$tmp"; do
  expect3 "leaks --json=$bad" leaks --json="$bad" -- "$point"
  expect3 "bench --svg $bad" bench --svg "$bad"
  expect3 "tour --html $bad" tour --html "$bad"
done

# leaks on a directory: said as the shell says it, status 126.
"$memwalk" leaks "$tmp" >out 2>err
rc=$?
[ "$rc" -eq 126 ] || fail "leaks DIR: status $rc, expected 126"
grep -q "^memwalk: leaks: $tmp: Is a directory\$" err || fail "leaks DIR: $(cat err)"

if [ "$failed" -ne 0 ]; then
  echo "check-outputs: $failed checks failed"
  exit 1
fi
echo "check-outputs: ok: '-' is standard output and bad paths fail first (leaks, bench, maps, tour)"
