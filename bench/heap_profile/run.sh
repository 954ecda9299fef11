#!/usr/bin/env bash
# The heap profiler's benchmark: an allocation-heavy program (2,000,000 mixed malloc, calloc,
# realloc and free calls on 100,000 live blocks) and sqlite3 building and querying 100,000 rows
# in memory, each run natively, under `memwalk heap` (default options: --time-unit=ms), under
# heaptrack and under valgrind's massif (default options), and "mw-depth12": memwalk heap with
# --depth=12 (the leak checker's stack depth; massif's is 30), in turn in one loop so that a change in
# the machine's load hits every tool alike. Prints the median wall time of RUNS runs (massif:
# MS_RUNS, the first ones of the loop) and the median CPU time (user + system, the tool's
# processes and the program's: on a loaded machine wall times mostly measure the wait for a
# core), their ratios to native, the peak resident memory of the largest process, and the peak
# heap (mem_heap_B of the peak snapshot) memwalk and massif found; "pair" is the median of each
# run's CPU time over the native run's of the same turn of the loop (../pair_median.sh).
# Usage: run.sh BUILD_DIR [WORKLOAD...]   (RUNS=5 MS_RUNS=3 by default; TOOLS="native memwalk"
# to run fewer tools; native first, the base of the ratios)
set -u
build=${1:-build}
shift || true
runs=${RUNS:-5}
ms_runs=${MS_RUNS:-3}
tools=${TOOLS:-native memwalk mw-depth12 heaptrack massif}
dir=$build/bench/leak_overhead
measure=$dir/measure
memwalk=$build/memwalk
work=$(mktemp -d /tmp/memwalk-heap-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/../pair_median.sh"

"$dir/gen_sql" 100000 > "$work/bench.sql"
sqlite=$(command -v sqlite3) || { echo "run.sh: sqlite3 not found" >&2; exit 1; }

# The useful bytes of a massif file's peak snapshot.
peak_of() {
  awk -F= '/^mem_heap_B=/ { h = $2 } /^heap_tree=peak/ { p = h } END { print p + 0 }' "$1"
}

# One measured run of TOOL: appends "wall_secs kib cpu_secs" to $work/TOOL.times.
one() {
  local tool=$1 line cpu; shift
  local TIMEFORMAT='%U %S'
  case $tool in
    native)    { time "$measure" $input "$@" 2>"$work/m"; } 2>"$work/t" ;;
    memwalk)   { time "$measure" $input "$memwalk" heap -q --massif-out-file="$work/mw.out" \
                   -- "$@" 2>"$work/m"; } 2>"$work/t" ;;
    mw-depth12) { time "$measure" $input "$memwalk" heap -q --depth=12 \
                   --massif-out-file="$work/mw12.out" -- "$@" 2>"$work/m"; } 2>"$work/t" ;;
    heaptrack) { time "$measure" $input heaptrack -o "$work/ht" "$@" 2>"$work/m"; } 2>"$work/t"
               rm -f "$work"/ht.* ;;
    massif)    { time "$measure" $input valgrind --tool=massif --massif-out-file="$work/ms.out" \
                   "$@" 2>"$work/m"; } 2>"$work/t" ;;
  esac
  line=$(tail -n 1 "$work/m")
  cpu=$(awk '{ print $1 + $2 }' "$work/t")
  echo "$line $cpu" >> "$work/$tool.times"
}

# median of field 1 (with the field 2 of that line), median of field 3
median() {
  local w c
  w=$(sort -n -k1,1 "$1" | awk '{ t[NR] = $1; m[NR] = $2 } END { i = int((NR + 1) / 2); print t[i], m[i] }')
  c=$(sort -n -k3,3 "$1" | awk '{ c[NR] = $3 } END { print c[int((NR + 1) / 2)] }')
  echo "$w $c"
}

workloads=${*:-alloc_heavy sqlite3}
printf 'memwalk heap overhead (%s runs, massif %s, in one loop), %s\n' "$runs" "$ms_runs" \
  "$(uptime | sed 's/^ *//')"
printf '%-12s %-10s %9s %7s %9s %7s %6s %9s %12s\n' workload tool wall_s ratio cpu_s ratio pair \
  peak_MiB heap_peak_B
for workload in $workloads; do
  input=""
  case $workload in
    alloc_heavy) cmd=("$dir/alloc_heavy" 2000000 100000) ;;
    sqlite3)     cmd=("$sqlite" ":memory:"); input="-i $work/bench.sql" ;;
    *) echo "run.sh: unknown workload $workload" >&2; exit 2 ;;
  esac
  rm -f "$work"/*.times
  for i in $(seq "$runs"); do
    for tool in $tools; do
      case $tool in
        heaptrack) command -v heaptrack >/dev/null || continue ;;
        massif) command -v valgrind >/dev/null && [ "$i" -le "$ms_runs" ] || continue ;;
      esac
      one "$tool" "${cmd[@]}"
    done
  done
  base=""
  cbase=""
  first=""
  for tool in $tools; do
    [ -s "$work/$tool.times" ] || continue
    read -r secs kib cpu < <(median "$work/$tool.times")
    [ -z "$base" ] && base=$secs && cbase=$cpu && first=$tool
    peak=-
    [ "$tool" = memwalk ] && peak=$(peak_of "$work/mw.out")
    [ "$tool" = massif ] && peak=$(peak_of "$work/ms.out")
    printf '%-12s %-10s %9.3f %6.2fx %9.3f %6.2fx %5sx %9.1f %12s\n' "$workload" "$tool" "$secs" \
      "$(awk -v a="$secs" -v b="$base" 'BEGIN { print a / b }')" "$cpu" \
      "$(awk -v a="$cpu" -v b="$cbase" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
      "$(pair_median "$work/$first.times" "$work/$tool.times" 3)" \
      "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$peak"
  done
  if [ -s "$work/mw.out" ] && [ -s "$work/ms.out" ]; then
    awk -v a="$(peak_of "$work/mw.out")" -v b="$(peak_of "$work/ms.out")" \
      'BEGIN { printf "%-12s peak heap: memwalk %d, massif %d bytes (%+.3f %%)\n", "", a, b, (a - b) * 100 / b }'
  fi
  rm -f "$work/mw.out" "$work/ms.out"
done
