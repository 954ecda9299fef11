#!/usr/bin/env bash
# Times `memwalk maps -x` against `pmap -x` on a process with 10,000 mappings: the two tools run
# alternately in the same run, RUNS times each, and the table gives medians and their ratio.
#   usage: bench/maps_bench.sh [BUILD_DIR]      env: RUNS (default 5), REGIONS (default 10000)
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

now_ns() { date +%s%N; }
time_ms() { # prints the wall time of "$@" in ms (3 decimals), output discarded
  local t0 t1
  t0=$(now_ns); "$@" >/dev/null; t1=$(now_ns)
  awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Same totals first: the comparison is only fair if both report the same memory.
mine=$("$memwalk" maps -x "$pid" | awk '/^total kB/ { print $4 }')
theirs=$(pmap -x "$pid" | awk '/^total kB/ { print $4 }')

: >"$tmp/mw"; : >"$tmp/pmap"; : >"$tmp/cat"
time_ms "$memwalk" maps -x "$pid" >/dev/null; time_ms pmap -x "$pid" >/dev/null # warm-up
for _ in $(seq "$runs"); do
  time_ms "$memwalk" maps -x "$pid" >>"$tmp/mw"
  time_ms pmap -x "$pid" >>"$tmp/pmap"
  time_ms cat "/proc/$pid/smaps" >>"$tmp/cat"
done
mw_med=$(median <"$tmp/mw"); pm_med=$(median <"$tmp/pmap"); cat_med=$(median <"$tmp/cat")

echo "maps benchmark: $nmaps regions, median of $runs runs each, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %12s %12s %12s\n' "command" "median ms" "min ms" "max ms"
printf '%-24s %12s %12s %12s\n' "memwalk maps -x" "$mw_med" "$(sort -g "$tmp/mw" | head -1)" "$(sort -g "$tmp/mw" | tail -1)"
printf '%-24s %12s %12s %12s\n' "pmap -x" "$pm_med" "$(sort -g "$tmp/pmap" | head -1)" "$(sort -g "$tmp/pmap" | tail -1)"
printf '%-24s %12s %12s %12s\n' "cat smaps (kernel floor)" "$cat_med" "$(sort -g "$tmp/cat" | head -1)" "$(sort -g "$tmp/cat" | tail -1)"
awk -v a="$mw_med" -v b="$pm_med" -v c="$cat_med" 'BEGIN { printf "ratio memwalk/pmap: %.2fx (goal <= 0.50x); the kernel writing smaps alone: %.2fx\n", a / b, c / b }'
echo "RSS total kB: memwalk $mine, pmap $theirs ($([ "$mine" = "$theirs" ] && echo same || echo DIFFERENT))"
