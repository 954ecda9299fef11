#!/usr/bin/env bash
# The leak tracer's crash cases (issue 9, 1), each run RUNS times under `memwalk leaks`: threads
# that block every signal at exit, fork while threads allocate, asynchronous fatal signals while
# allocating, two threads double-freeing the same blocks at once (one of them exiting while the
# other still frees). Every run must end as the program would natively, with its report.
# Usage: stress/leak_stress.sh BUILD_DIR RUNS (MEMWALK=path: another memwalk, to compare).
# Exit status: 0 when every run passed.
set -u
build=${1:?build dir} runs=${2:-20}
mw=${MEMWALK:-$build/memwalk} v=$build/tests/leaks/victims
tmp=$(mktemp -d /tmp/memwalk-leak-stress.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
total_fail=0

# case NAME WANT_STATUS CMD...: runs CMD under memwalk leaks RUNS times; each run must exit with
# WANT_STATUS within 60 s and print a LEAK SUMMARY for the program.
case_() {
  local name=$1 want=$2 fail=0 i st
  shift 2
  for ((i = 0; i < runs; i++)); do
    rm -f "$tmp"/log*
    timeout -s KILL "${STRESS_TIMEOUT:-60}" "$mw" leaks -q --log-file="$tmp/log.%p" -- "$@" >/dev/null 2>"$tmp/err"
    st=$?
    if [ "$st" -ne "$want" ] || ! grep -q "LEAK SUMMARY\|All heap blocks were freed" "$tmp"/log* 2>/dev/null; then
      fail=$((fail + 1))
      echo "  $name run $i: status $st (want $want): $(head -c 300 "$tmp/err")"
    fi
  done
  echo "leak-stress: $name: $((runs - fail))/$runs runs passed"
  total_fail=$((total_fail + fail))
}

case_ sigblock_threads 0 "$v/sigblock_threads"
case_ fork_threads 0 "$v/fork_threads"
case_ double_free_threads 0 "$v/badfree_threads"
case_ async_sigalrm 142 "$v/async_signal" 14
case_ async_sigterm 143 "$v/async_signal" 15
case_ async_sigint 130 "$v/async_signal" 2
[ "$total_fail" -eq 0 ]
