#!/usr/bin/env bash
# The leak checker's overhead benchmark: an allocation-heavy program and sqlite3 building and
# querying 200,000 rows in memory, each run natively, under `memwalk leaks`, under heaptrack and
# under valgrind (memcheck --leak-check=full). Prints medians of RUNS runs (valgrind: VG_RUNS,
# fewer by default since it is slow), their ratio to native, and the peak resident memory of the
# largest process. Usage: run.sh BUILD_DIR   (RUNS=5 VG_RUNS=3 to change the counts)
set -u
build=${1:-build}
runs=${RUNS:-5}
vg_runs=${VG_RUNS:-3}
dir=$build/bench/leak_overhead
measure=$dir/measure
memwalk=$build/memwalk
work=$(mktemp -d /tmp/memwalk-leak-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$dir/gen_sql" 200000 > "$work/bench.sql"
sqlite=$(command -v sqlite3) || { echo "run.sh: sqlite3 not found" >&2; exit 1; }

# median of the first field / the matching second field of "secs kib" lines
median() { sort -n | awk '{ t[NR] = $1; m[NR] = $2 } END { i = int((NR + 1) / 2); print t[i], m[i] }'; }

# run TOOL N -- CMD...: N measured runs, prints "median_secs peak_kib"
run() {
  local tool=$1 n=$2; shift 3
  local i out=""
  for i in $(seq "$n"); do
    case $tool in
      native)    "$measure" $input "$@" ;;
      memwalk)   "$measure" $input "$memwalk" leaks -q --log-file="$work/mw.log" -- "$@" ;;
      heaptrack) "$measure" $input heaptrack -o "$work/ht.$i" "$@"; rm -f "$work"/ht.*;;
      valgrind)  "$measure" $input valgrind --leak-check=full --log-file="$work/vg.log" "$@" ;;
    esac 2>&1 >/dev/null | tail -n 1
  done | median
}

printf 'memwalk leaks overhead (%s runs, valgrind %s), %s\n' "$runs" "$vg_runs" "$(uptime | sed 's/^ *//')"
printf '%-12s %-10s %10s %8s %12s\n' workload tool seconds ratio peak_MiB
for workload in alloc_heavy sqlite3; do
  if [ "$workload" = alloc_heavy ]; then
    cmd=("$dir/alloc_heavy" 6000000 100000); input=""
  else
    cmd=("$sqlite" ":memory:"); input="-i $work/bench.sql"
  fi
  base=""
  for tool in native memwalk heaptrack valgrind; do
    if [ "$tool" = heaptrack ] && ! command -v heaptrack >/dev/null; then continue; fi
    if [ "$tool" = valgrind ] && ! command -v valgrind >/dev/null; then continue; fi
    n=$runs; [ "$tool" = valgrind ] && n=$vg_runs
    read -r secs kib < <(run "$tool" "$n" -- "${cmd[@]}")
    [ -z "$base" ] && base=$secs
    printf '%-12s %-10s %10.3f %7.2fx %12.1f\n' "$workload" "$tool" "$secs" \
      "$(awk -v a="$secs" -v b="$base" 'BEGIN { print a / b }')" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')"
  done
done
