#!/usr/bin/env bash
# Compile-time checks of cleanup.h with every compiler given: the misuses in misuse.c must fail to
# build with -Werror and with the expected diagnostic, and the correct use must build.
# Usage: compile-checks.sh SRC_DIR CC...      Exit status 0 when every expectation holds.
set -u
src=$1
shift
dir=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0 ran=0

# expect CC CASE ok|fail [PATTERN]: compile misuse.c with -DCASE and check the outcome.
expect() {
  local cc=$1 case=$2 want=$3 pattern=${4:-}
  ran=$((ran + 1))
  if "$cc" -std=gnu11 -Wall -Wextra -Werror -I"$src/include" -D"$case" -c "$dir/misuse.c" \
       -o "$tmp/out.o" >"$tmp/log" 2>&1; then
    got=ok
  else
    got=fail
  fi
  if [ "$got" != "$want" ]; then
    echo "compile-checks: $cc -D$case: expected the build to $( [ "$want" = ok ] && echo succeed || echo fail ), it did not"
    sed 's/^/  | /' "$tmp/log" | head -20
    failed=$((failed + 1))
  elif [ -n "$pattern" ] && ! grep -Eq "$pattern" "$tmp/log"; then
    echo "compile-checks: $cc -D$case: failed, but not with /$pattern/:"
    sed 's/^/  | /' "$tmp/log" | head -20
    failed=$((failed + 1))
  fi
}

for cc in "$@"; do
  command -v "$cc" >/dev/null 2>&1 || { echo "compile-checks: $cc: not found"; failed=$((failed + 1)); continue; }
  expect "$cc" CASE_OK ok
  expect "$cc" CASE_IGNORED_TAKE_FD fail 'unused-result'
  expect "$cc" CASE_WRONG_TYPE fail 'incompatible-pointer-types'
  case "$("$cc" --version 2>/dev/null | head -n 1)" in
  *clang*)
    # clang drops warn_unused_result through the cast that gives mw_take_ptr its type, so an
    # ignored mw_take_ptr is caught by gcc only (see cleanup.h). clang refuses the goto.
    expect "$cc" CASE_GOTO_PAST_CLEANUP fail 'jump .*bypasses|cannot jump'
    ;;
  *)
    expect "$cc" CASE_IGNORED_TAKE_PTR fail 'unused-result'
    ;;
  esac
done
if [ "$failed" -ne 0 ]; then
  echo "compile-checks: $failed of $ran expectations failed"
  exit 1
fi
echo "compile-checks: ok: $ran expectations held ($*)"
