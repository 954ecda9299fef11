#!/usr/bin/env bash
# Times `memwalk maps -x` against `pmap -x` on a process with 10,000 mappings: the tools run
# alternately in the same run, RUNS times each, and the table gives medians and their ratios to
# pmap and to `cat /proc/PID/smaps` (the kernel writing the text, plus starting a process).
#   usage: bench/maps_bench.sh [BUILD_DIR]
#   env: RUNS (default 5), REGIONS (default 10000), CALLGRIND=1 (also count each command's
#        instructions with valgrind's callgrind: a figure the machine's load does not change),
#        BASELINE=FILE (another memwalk binary, e.g. an older build, timed in the same loop)
set -eu
build=${1:-build}
runs=${RUNS:-5}
regions=${REGIONS:-10000}
memwalk=$build/memwalk
target=$build/bench/maps_bench_target
command -v pmap >/dev/null || { echo "maps_bench: pmap not found (Debian package procps)" >&2; exit 1; }
[ -x "$memwalk" ] && [ -x "$target" ] || { echo "maps_bench: build first (make bench)" >&2; exit 1; }

# The target keeps running while its stdin (a fifo held open here) stays open.
tmp=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
mkfifo "$tmp/in"
"$target" $((regions / 2)) <"$tmp/in" >"$tmp/out" &
pid=$!
exec 3>"$tmp/in"
for _ in $(seq 100); do grep -q ready "$tmp/out" 2>/dev/null && break; sleep 0.05; done
grep -q ready "$tmp/out" || { echo "maps_bench: target did not start" >&2; exit 1; }
nmaps=$(wc -l <"/proc/$pid/maps")

# The clock is bash's own: a `date` process inside the timed span would add its start-up (several
# ms on a virtual machine) to every command alike and pull the ratios towards 1.
time_ms() { # prints the wall time of "$@" in ms (3 decimals), output discarded
  local t0 t1
  t0=$EPOCHREALTIME; "$@" >/dev/null; t1=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1e3 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Same totals first: the comparison is only fair if both report the same memory.
mine=$("$memwalk" maps -x "$pid" | awk '/^total kB/ { print $4 }')
theirs=$(pmap -x "$pid" | awk '/^total kB/ { print $4 }')

: >"$tmp/mw"; : >"$tmp/pmap"; : >"$tmp/cat"; : >"$tmp/base"
baseline=${BASELINE:-}
[ -z "$baseline" ] || [ -x "$baseline" ] || { echo "maps_bench: BASELINE=$baseline is not a program" >&2; exit 1; }
time_ms "$memwalk" maps -x "$pid" >/dev/null; time_ms pmap -x "$pid" >/dev/null # warm-up
for _ in $(seq "$runs"); do
  time_ms "$memwalk" maps -x "$pid" >>"$tmp/mw"
  time_ms pmap -x "$pid" >>"$tmp/pmap"
  time_ms cat "/proc/$pid/smaps" >>"$tmp/cat"
  [ -z "$baseline" ] || time_ms "$baseline" maps -x "$pid" >>"$tmp/base"
done
mw_med=$(median <"$tmp/mw"); pm_med=$(median <"$tmp/pmap"); cat_med=$(median <"$tmp/cat")

echo "maps benchmark: $nmaps regions, median of $runs runs each, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %12s %12s %12s\n' "command" "median ms" "min ms" "max ms"
printf '%-24s %12s %12s %12s\n' "memwalk maps -x" "$mw_med" "$(sort -g "$tmp/mw" | head -1)" "$(sort -g "$tmp/mw" | tail -1)"
printf '%-24s %12s %12s %12s\n' "pmap -x" "$pm_med" "$(sort -g "$tmp/pmap" | head -1)" "$(sort -g "$tmp/pmap" | tail -1)"
printf '%-24s %12s %12s %12s\n' "cat smaps (kernel floor)" "$cat_med" "$(sort -g "$tmp/cat" | head -1)" "$(sort -g "$tmp/cat" | tail -1)"
if [ -n "$baseline" ]; then
  base_med=$(median <"$tmp/base")
  printf '%-24s %12s %12s %12s\n' "baseline maps -x" "$base_med" "$(sort -g "$tmp/base" | head -1)" "$(sort -g "$tmp/base" | tail -1)"
  awk -v a="$base_med" -v b="$pm_med" -v c="$cat_med" 'BEGIN { printf "ratio baseline/pmap: %.2fx; baseline/cat: %.2fx\n", a / b, a / c }'
fi
awk -v a="$mw_med" -v b="$pm_med" -v c="$cat_med" 'BEGIN { printf "ratio memwalk/pmap: %.2fx (goal <= 0.50x); memwalk/cat: %.2fx (goal <= 1.30x); cat/pmap: %.2fx\n", a / b, a / c, c / b }'
echo "RSS total kB: memwalk $mine, pmap $theirs ($([ "$mine" = "$theirs" ] && echo same || echo DIFFERENT))"

if [ "${CALLGRIND:-0}" = 1 ]; then
  command -v valgrind >/dev/null || { echo "maps_bench: CALLGRIND=1 needs valgrind" >&2; exit 1; }
  ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | awk '/ refs:/ { gsub(",", "", $NF); print $NF }'; }
  mw_ir=$(ir "$memwalk" maps -x "$pid"); pm_ir=$(ir pmap -x "$pid"); cat_ir=$(ir cat "/proc/$pid/smaps")
  echo "instructions (callgrind, user space, all threads):"
  printf '%-24s %14s\n' "memwalk maps -x" "$mw_ir" "pmap -x" "$pm_ir" "cat smaps" "$cat_ir"
  [ -z "$baseline" ] || printf '%-24s %14s\n' "baseline maps -x" "$(ir "$baseline" maps -x "$pid")"
  awk -v a="$mw_ir" -v b="$pm_ir" 'BEGIN { printf "instructions memwalk/pmap: %.2fx\n", a / b }'
fi
