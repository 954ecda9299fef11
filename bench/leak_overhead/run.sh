#!/usr/bin/env bash
# The leak checker's overhead benchmark. Workloads: an allocation-heavy program, sqlite3
# building and querying 200,000 rows in memory, python3 importing json, sqlite3 and re (fixed
# costs: start-up, exit scan, report), a python3 script of about 2 s (work.py) and a short perl
# one-liner. Each runs natively, under `memwalk leaks` (its symbol cache warm, as from the second
# run of a program on; and "mw-cold", with an empty cache each time), under heaptrack and under
# valgrind (memcheck --leak-check=full), taking turns run after run. Prints medians of RUNS runs
# (valgrind: VG_RUNS) of wall time, their ratio to native, the peak resident memory of the
# largest process, and the median CPU time (user and system, every process) with its ratio; "pair"
# is the median of each run's CPU time over the native run's of the same turn (pair_median.sh).
# Usage: run.sh BUILD_DIR [WORKLOAD...]   (RUNS=5 VG_RUNS=5 by default; TOOLS="native memwalk"
# to run fewer tools; native comes first, the base of the ratios; the tool "mw-base" is memwalk
# with the tracer BASE_PRELOAD=/path/to/libmemwalk-leak.so, for a before/after in one run)
set -u
build=${1:-build}
shift || true
runs=${RUNS:-5}
vg_runs=${VG_RUNS:-5}
dir=$build/bench/leak_overhead
src=$(cd "$(dirname "$0")" && pwd)
measure=$dir/measure
memwalk=$build/memwalk
work=$(mktemp -d /tmp/memwalk-leak-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$src/../pair_median.sh"

"$dir/gen_sql" 200000 > "$work/bench.sql"
sqlite=$(command -v sqlite3) || { echo "run.sh: sqlite3 not found" >&2; exit 1; }
# Debian's interpreters, not a wrapper script in PATH (pyenv's shims exec the real one).
python=/usr/bin/python3; [ -x "$python" ] || python=$(command -v python3)
perl=/usr/bin/perl; [ -x "$perl" ] || perl=$(command -v perl)

# median of the first field (wall seconds) with the peak of that run, and the median of the
# third (CPU seconds), of "secs kib cpu" lines
median() {
  awk '{ print $1, $2; print $3 > "/dev/fd/3" }' 3> "$work/cpu" | sort -n |
    awk '{ t[NR] = $1; m[NR] = $2 } END { i = int((NR + 1) / 2); printf "%s %s ", t[i], m[i] }'
  sort -n "$work/cpu" | awk '{ c[NR] = $1 } END { print c[int((NR + 1) / 2)] }'
}

# once TOOL I -- CMD...: one measured run, prints "secs kib cpu"
once() {
  local tool=$1 i=$2; shift 3
  case $tool in
    native)    "$measure" $input "$@" ;;
    memwalk)   MEMWALK_SYMBOL_CACHE=$work/symbols \
                 "$measure" $input "$memwalk" leaks -q --log-file="$work/mw.log" -- "$@" ;;
    mw-base)   MEMWALK_PRELOAD=$BASE_PRELOAD MEMWALK_SYMBOL_CACHE=$work/symbols \
                 "$measure" $input "$memwalk" leaks -q --log-file="$work/mw.log" -- "$@" ;;
    mw-cold)   rm -rf "$work/cold"
               MEMWALK_SYMBOL_CACHE=$work/cold \
                 "$measure" $input "$memwalk" leaks -q --log-file="$work/mw.log" -- "$@" ;;
    heaptrack) "$measure" $input heaptrack -o "$work/ht.$i" "$@"; rm -f "$work"/ht.*;;
    valgrind)  "$measure" $input valgrind --leak-check=full --log-file="$work/vg.log" "$@" ;;
  esac 2>&1 >/dev/null | tail -n 1
}

workloads=${*:-alloc_heavy sqlite3 py_import py_script perl}
printf 'memwalk leaks overhead (%s runs, valgrind %s), %s\n' "$runs" "$vg_runs" "$(uptime | sed 's/^ *//')"
printf '%-12s %-10s %10s %8s %12s %8s %8s %6s\n' workload tool seconds ratio peak_MiB cpu_s ratio pair
for workload in $workloads; do
  input=""
  case $workload in
    alloc_heavy) cmd=("$dir/alloc_heavy" 6000000 100000) ;;
    sqlite3)     cmd=("$sqlite" ":memory:"); input="-i $work/bench.sql" ;;
    py_import)   cmd=("$python" -c 'import json, sqlite3, re') ;;
    py_script)   cmd=("$python" "$src/work.py" 300000) ;;
    perl)        cmd=("$perl" -e 'my %h; $h{"k$_"} = [$_, "v" x ($_ % 40)] for 1 .. 50000;
                      my $t = 0; $t += length $h{$_}[1] for keys %h; print "$t\n"') ;;
    *) echo "run.sh: unknown workload $workload" >&2; exit 2 ;;
  esac
  # A first memwalk run fills the symbol cache the "memwalk" rows use, as any earlier run would.
  MEMWALK_SYMBOL_CACHE=$work/symbols \
    "$measure" $input "$memwalk" leaks -q --log-file="$work/mw.log" -- "${cmd[@]}" > /dev/null 2>&1
  tools=()
  for tool in ${TOOLS:-native memwalk mw-cold heaptrack valgrind}; do
    if [ "$tool" = heaptrack ] && ! command -v heaptrack >/dev/null; then continue; fi
    if [ "$tool" = valgrind ] && ! command -v valgrind >/dev/null; then continue; fi
    if [ "$tool" = mw-base ] && [ ! -f "${BASE_PRELOAD:-}" ]; then continue; fi
    tools+=("$tool")
    : > "$work/runs.$tool"
  done
  # The tools take turns, run after run, so that a change of the machine's load falls on all.
  for i in $(seq "$runs"); do
    for tool in "${tools[@]}"; do
      [ "$tool" = valgrind ] && [ "$i" -gt "$vg_runs" ] && continue
      once "$tool" "$i" -- "${cmd[@]}" >> "$work/runs.$tool"
    done
  done
  base="" cbase=""
  for tool in "${tools[@]}"; do
    read -r secs kib cpu < <(median < "$work/runs.$tool")
    [ -z "$base" ] && base=$secs cbase=$cpu
    printf '%-12s %-10s %10.3f %7.2fx %12.1f %8.3f %7.2fx %5sx\n' "$workload" "$tool" "$secs" \
      "$(awk -v a="$secs" -v b="$base" 'BEGIN { print a / b }')" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" \
      "$cpu" "$(awk -v a="$cpu" -v b="$cbase" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
      "$(pair_median "$work/runs.${tools[0]}" "$work/runs.$tool" 3)"
  done
done
