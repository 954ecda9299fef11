#!/usr/bin/env bash
# Boehm GC's own tests (huge, realloc, smash, staticroots with its library as a shared object,
# threadkey), compiled unchanged against memwalk's <gc.h> with -DGC_THREADS and linked with
# libmemwalk-boehm.so: each must exit 0, print SUCCEEDED and nothing on stderr, and compile
# without a warning. Their sources are read where they are (../shared/peers/bdwgc/tests from the
# source tree, or /work/shared/peers/bdwgc/tests); nothing of them is copied.
#
# usage: peers.sh BUILD_DIR CC   (exit 0 when all pass or the sources are absent, 1 otherwise)
set -u
build=$(realpath "$1") cc=${2:-cc}
src=$(cd "$(dirname "$0")/../.." && pwd)
peers=""
for d in "$src/../shared/peers/bdwgc/tests" /work/shared/peers/bdwgc/tests; do
  [ -f "$d/huge.c" ] && { peers=$(cd "$d" && pwd); break; }
done
if [ -z "$peers" ]; then
  echo "peers: SKIPPED: Boehm GC's tests are not here (looked in $src/../shared/peers/bdwgc/tests" \
       "and /work/shared/peers/bdwgc/tests): nothing was run"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags="-DGC_THREADS -I$src/include/memwalk/boehm -O2 -Wall -Wextra"
libs="-L$build -lmemwalk-boehm -Wl,-rpath,$build"
failed=0

compile() { # OUT SOURCE EXTRA...: compiles, fails on any diagnostic
  local out=$1; shift
  if ! $cc $flags "$@" -o "$out" $libs 2> "$out.cc" || [ -s "$out.cc" ]; then
    echo "peers: FAIL: $cc $(basename "$1"): compiler said:"; head -20 "$out.cc"
    return 1
  fi
}

for t in huge realloc smash staticroots threadkey; do
  case $t in
    staticroots)
      compile "$tmp/libstaticroots_lib.so" "$peers/staticroots_lib.c" -shared -fPIC || { failed=$((failed + 1)); continue; }
      compile "$tmp/$t" "$peers/$t.c" -L"$tmp" -lstaticroots_lib -Wl,-rpath,"$tmp" || { failed=$((failed + 1)); continue; } ;;
    *) compile "$tmp/$t" "$peers/$t.c" || { failed=$((failed + 1)); continue; } ;;
  esac
  timeout 300 "$tmp/$t" > "$tmp/$t.out" 2> "$tmp/$t.err"
  rc=$?
  if [ $rc -eq 0 ] && [ ! -s "$tmp/$t.err" ] && tail -n 1 "$tmp/$t.out" | grep -qx SUCCEEDED; then
    echo "peers: ok: $t (exit 0, SUCCEEDED, nothing on stderr)"
  else
    failed=$((failed + 1))
    echo "peers: FAIL: $t: exit $rc; stdout ends: $(tail -n 1 "$tmp/$t.out"); stderr: $(head -c 400 "$tmp/$t.err")"
  fi
done
if [ $failed -ne 0 ]; then
  echo "peers: FAIL: $failed of 5 of Boehm GC's tests (from $peers)"
  exit 1
fi
echo "peers: PASS: Boehm GC's tests huge, realloc, smash, staticroots, threadkey (from $peers) on libmemwalk-boehm.so"
