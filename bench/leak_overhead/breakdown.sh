#!/usr/bin/env bash
# Where the fixed cost of `memwalk leaks` goes, for one short command (by default python3
# importing json, sqlite3 and re): the command natively; with the tracer preloaded by hand,
# writing its raw result to a file (start-up, hooks, exit scan: the traced process's share);
# `memwalk --version` (the memwalk process starting); `memwalk leaks --read` of that file with
# the symbol cache warm and off (the report: parsing, symbolizing, printing); and `memwalk leaks`
# end to end, cache warm and cold. CPU time (perf stat's task-clock: every process of the run,
# user and system) is the measure that holds on a loaded machine; wall time is printed too.
# Usage: breakdown.sh BUILD_DIR [CMD ARGS...]   (RUNS=11 by default)
set -u
build=${1:-build}
shift || true
runs=${RUNS:-11}
memwalk=$build/memwalk
preload=$build/libmemwalk-leak.so
work=$(mktemp -d /tmp/memwalk-breakdown.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ $# -gt 0 ]; then cmd=("$@"); else cmd=(/usr/bin/python3 -c 'import json, sqlite3, re'); fi

LD_PRELOAD=$preload MEMWALK_OUT=$work/raw "${cmd[@]}" > /dev/null 2>&1
MEMWALK_SYMBOL_CACHE=$work/symbols "$memwalk" leaks -q --log-file=/dev/null --read "$work/raw"

# row NAME CMD...: perf stat's mean task-clock (CPU of every process of the run) and elapsed
# time over RUNS runs.
row() {
  local name=$1 out cpu wall
  shift
  out=$(perf stat -r "$runs" -e task-clock -- "$@" 2>&1 >/dev/null)
  cpu=$(awk '/task-clock/ { print $1 }' <<< "$out")
  wall=$(awk '/seconds time elapsed/ { print $1 * 1000 }' <<< "$out")
  [ "$name" = native ] && { bc=$cpu; bw=$wall; }
  printf '%-12s %10.1f %7.2fx %10.1f %7.2fx\n' "$name" "$cpu" "$(awk -v a="$cpu" -v b="$bc" 'BEGIN { print a / b }')" \
    "$wall" "$(awk -v a="$wall" -v b="$bw" 'BEGIN { print a / b }')"
}

command -v perf > /dev/null || { echo "breakdown.sh: needs perf (linux-perf)" >&2; exit 1; }
printf 'breakdown of %s (means of %s runs), %s\n' "${cmd[*]}" "$runs" "$(uptime | sed 's/^ *//')"
printf '%-12s %10s %8s %10s %8s\n' row cpu_ms ratio wall_ms ratio
row native "${cmd[@]}"
row preload env LD_PRELOAD="$preload" MEMWALK_OUT="$work/raw.x" "${cmd[@]}"
row start "$memwalk" --version
row report env MEMWALK_SYMBOL_CACHE="$work/symbols" "$memwalk" leaks -q --log-file=/dev/null --read "$work/raw"
row report-cold env MEMWALK_SYMBOL_CACHE=off "$memwalk" leaks -q --log-file=/dev/null --read "$work/raw"
row memwalk env MEMWALK_SYMBOL_CACHE="$work/symbols" "$memwalk" leaks -q --log-file=/dev/null -- "${cmd[@]}"
row mw-cold env MEMWALK_SYMBOL_CACHE=off "$memwalk" leaks -q --log-file=/dev/null -- "${cmd[@]}"
