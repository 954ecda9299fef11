#!/usr/bin/env bash
# Real Debian programs built for Boehm GC (w3m, mmv, chase, debfoster), run unmodified on Boehm's
# own libgc.so.1 and on memwalk's collector (memwalk gc-run), by default and with
# MEMWALK_GC_COLLECT_EVERY=N: their stdout, stderr, exit status and the files they leave must be
# byte-identical, memwalk's collector must have run (and collected, under collect-every), and it
# must print nothing but its --stats lines.
#
# usage: programs.sh MEMWALK [--quick]   (exit 0 when every case holds, 1 otherwise)
set -u
memwalk=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cases=0 failed=0

for prog in w3m mmv chase debfoster; do
  path=$(command -v $prog) || { echo "programs: $prog is not installed (scripts/install-deps adds it)" >&2; exit 1; }
  ldd "$path" | grep -q 'libgc\.so\.1' ||
    { echo "programs: $path does not link libgc.so.1: nothing to compare" >&2; exit 1; }
done

# ---- the inputs ---------------------------------------------------------------------------------
python3 "$here/gen-html" --kib 2048 --seed 1 > "$tmp/big.html"
python3 "$here/gen-html" --kib 256 --seed 2 > "$tmp/small.html"
python3 "$here/gen-html" --kib 32 --seed 3 > "$tmp/tiny.html"

# Templates of the directories the runs start in, made once and copied for each run.
mkdir -p "$tmp/tpl/none" "$tmp/tpl/files" "$tmp/tpl/links"
(
  cd "$tmp/tpl/files" || exit 1
  for i in $(seq -w 1 300); do printf 'file %s\n' "$i" > "file$i.txt"; done
  mkdir -p sub; for i in $(seq 1 40); do printf 'x%s\n' "$i" > "sub/Mixed_Case_$i.dat"; done
)
(
  cd "$tmp/tpl/links" || exit 1
  mkdir -p t; : > t/target
  # 60 chains of links, c<N>.0 -> t/target, c<N>.<D> -> c<N>.<D-1> (made in one process: a
  # process per link took seconds)
  python3 -c '
import os
with open("list", "w") as out:
    for c in range(1, 61):
        os.symlink("t/target", "c%d.0" % c)
        for d in range(1, c % 25 + 1):
            os.symlink("c%d.%d" % (c, d - 1), "c%d.%d" % (c, d))
        out.write("c%d.%d\n" % (c, c % 25))
' || exit 1
  ln -s loopB loopA; ln -s loopA loopB; ln -s nowhere dangling
  printf 'c1.1\0c2.2\0c3.3\0' > nullist
)

# run_case NAME EVERY TEMPLATE COMMAND: runs COMMAND (a shell command line) once per mode, each
# time in the same directory (programs print paths) copied afresh from TEMPLATE, and compares what
# the memwalk runs did with the Boehm run.
run_case() {
  local name=$1 every=$2 tpl=$3 cmd=$4 mode d=$tmp/run r ok=1 why="" n t0=$SECONDS
  cases=$((cases + 1))
  for mode in boehm memwalk every; do
    r=$tmp/$name.$mode
    rm -rf "$d" && cp -a "$tmp/tpl/$tpl" "$d"
    case $mode in
      boehm) (cd "$d" && env -u LD_PRELOAD sh -c "$cmd" > "$r.out" 2> "$r.err"; echo $? > "$r.rc") ;;
      memwalk) (cd "$d" && "$memwalk" gc-run --stats -- sh -c "$cmd" > "$r.out" 2> "$r.err"; echo $? > "$r.rc") ;;
      every) (cd "$d" && "$memwalk" gc-run --stats --collect-every="$every" -- sh -c "$cmd" \
                > "$r.out" 2> "$r.err"; echo $? > "$r.rc") ;;
    esac
    (cd "$d" && find . -mindepth 1 -printf '%y %p %l\n' | sort && find . -type f -exec md5sum {} + | sort) > "$r.tree"
    # memwalk's --stats lines are the only difference allowed on stderr
    grep -v -E '^memwalk gc: ([0-9]+ collections, heap|pauses: )' "$r.err" > "$r.err.cmp"
  done
  for mode in memwalk every; do
    d=$tmp/$name.$mode
    for f in out rc tree err.cmp; do
      cmp -s "$tmp/$name.boehm.$f" "$d.$f" || { ok=0; why="$why $mode:$f differs"; }
    done
    grep -q -E '^memwalk gc: [0-9]+ collections' "$d.err" || { ok=0; why="$why $mode:memwalk's collector did not run"; }
  done
  n=$(sed -n -E 's/^memwalk gc: ([0-9]+) collections.*/\1/p' "$tmp/$name.every.err" | sort -n | tail -1)
  [ "${n:-0}" -gt 0 ] || { ok=0; why="$why every:no collection"; }
  if [ $ok -eq 1 ]; then
    echo "programs: ok: $name ($(wc -c < "$tmp/$name.boehm.out") bytes out, status $(cat "$tmp/$name.boehm.rc"), ${n} collections with collect-every=$every, $((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
    echo "programs: FAIL: $name:$why"
    for mode in memwalk every; do
      diff "$tmp/$name.boehm.err.cmp" "$tmp/$name.$mode.err.cmp" | head -5
      diff "$tmp/$name.boehm.out" "$tmp/$name.$mode.out" | head -5
    done
  fi
}

# ---- w3m: every string it handles is collected ------------------------------------------------
run_case w3m-dump-2MiB     200000 none "w3m -dump '$tmp/big.html'"
run_case w3m-dump-cols     5000   none "w3m -dump -cols 60 -o display_link_number=1 '$tmp/small.html'"
run_case w3m-stdin         500    none "w3m -dump -T text/html < '$tmp/tiny.html'"
run_case w3m-halfdump      2000   none "w3m -halfdump -cols 120 '$tmp/tiny.html'"
# ---- mmv: renames, copies, a dry run, a refused collision, symbolic links ---------------------
run_case mmv-rename        5 files "mmv -v '*.txt' '#1.bak'"
run_case mmv-copy-upper    1 files "mmv -c -v 'sub/*_Case_*' 'sub/#u1-#2'"
run_case mmv-dry-run       1 files "mmv -n 'file0[0-4]?.txt' 'x#1#2.txt'"
run_case mmv-collision     1 files "mmv 'file00*.txt' 'same'"
run_case mmv-symlink       1 files "mmv -s -v 'sub/*.dat' 'link_#1'"
# ---- chase: symlink chains, a list, a loop, a dangling link ----------------------------------
run_case chase-all         100 links "chase c*.[0-9]*"
run_case chase-verbose     1 links "chase --verbose c24.23 dangling"
run_case chase-from-file   10 links "chase -f list"
run_case chase-null        1 links "chase -0 < nullist"
run_case chase-loop        1 links "chase loopA; chase -l 5 c49.24"
# ---- debfoster: questions about this system's packages, a keeper file built quietly -----------
run_case debfoster-depends 200 none "debfoster -k keepers -n -d w3m; debfoster -k keepers -n -e libc6"
run_case debfoster-related 200 none "debfoster -k keepers -n -r libc6; debfoster -k keepers -n -p awk"
run_case debfoster-keepers 200 none "debfoster -k keepers -q && debfoster -k keepers -a && debfoster -k keepers -s"

if [ $failed -eq 0 ]; then
  echo "programs: PASS: $cases cases, outputs identical on Boehm GC and on memwalk (default and collect-every)"
  exit 0
fi
echo "programs: FAIL: $failed of $cases cases"
exit 1
