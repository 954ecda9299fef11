#!/usr/bin/env bash
# Runs a program under valgrind's memcheck and requires: exit status 0, no memory errors, and
# "in use at exit: 0 bytes in 0 blocks". Extra arguments: grep -E patterns the program's stdout
# must contain, in that order of lines.
# Usage: valgrind-check.sh PROGRAM [PATTERN...]
set -u
prog=$1
shift
name=$(basename "$prog")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "valgrind-check: $name: $*"
  sed 's/^/  | /' "$tmp/vg" | tail -n 25
  exit 1
}

command -v valgrind >/dev/null 2>&1 || { echo "valgrind-check: valgrind not found (scripts/install-deps)"; exit 1; }
valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=99 \
  --log-file="$tmp/vg" "$prog" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 99 ] && fail "valgrind reported errors or leaks"
[ "$rc" -ne 0 ] && { cat "$tmp/err"; fail "exit status $rc"; }
grep -q 'in use at exit: 0 bytes in 0 blocks' "$tmp/vg" || fail "memory still in use at exit"
grep -q 'ERROR SUMMARY: 0 errors' "$tmp/vg" || fail "memory errors"
line=0
for pat in "$@"; do
  found=$(awk -v from="$line" -v pat="$pat" 'NR > from && $0 ~ pat { print NR; exit }' "$tmp/out")
  if [ -z "$found" ]; then
    echo "valgrind-check: $name: no output line matching /$pat/ after line $line:"
    sed 's/^/  > /' "$tmp/out"
    exit 1
  fi
  line=$found
done
echo "valgrind-check: ok: $name: 0 bytes in use at exit, 0 errors$( [ $# -gt 0 ] && echo ", output as expected")"
