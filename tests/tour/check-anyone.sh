#!/usr/bin/env bash
# `make tour` for anyone: a copy of the source tree, built and toured by an unprivileged user
# without sudo, with the optional tools hidden from PATH (pkg-config hidden hides the optional
# libraries too). The tour must start, name each missing part with what it skips, build quietly,
# and a second make must find nothing to rebuild. Needs root to create the user; bounded in time.
# Usage: check-anyone.sh SOURCE_DIR
set -u
src=$(cd "$1" && pwd)
user=memwalk-tour
hidden="python3 python valgrind clang clang-14 clang-format clang-format-14 cppcheck heaptrack
pkg-config x86_64-linux-gnu-pkg-config sqlite3 git xmllint g++ c++ sudo chromium pmap"
fail() { echo "check-tour-anyone: $*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  echo "check-tour-anyone: skipped: run as root to create the unprivileged test user"
  exit 0
fi
id "$user" >/dev/null 2>&1 ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user" ||
  fail "cannot create user $user"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir "$tmp/src" "$tmp/bin"
# The tree as a fresh clone would have it (untracked files not ignored included, for work in
# progress), never the build directories.
(cd "$src" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - 2>/dev/null) |
  tar -C "$tmp/src" -xf - || fail "cannot copy the source tree"
chown -R "$user" "$tmp/src"
# A PATH with every command of the system but the hidden ones.
# (Names are collected first and linked by one ln: a process per command cost 8 s.)
hidden=" $(echo $hidden) "
declare -A seen
links=()
for dir in /usr/local/bin /usr/bin /bin; do
  for f in "$dir"/*; do
    name=${f##*/}
    case "$hidden" in *" $name "*) continue ;; esac
    [ -n "${seen[$name]+x}" ] && continue
    seen[$name]=1
    links+=("$f")
  done
done
printf '%s\0' "${links[@]}" | xargs -0 ln -s -t "$tmp/bin" || fail "cannot link the commands"

tour() {
  timeout 600 runuser -u "$user" -- env -i PATH="$tmp/bin" HOME="$tmp" LANG=C \
    make -C "$tmp/src" --no-print-directory tour TOUR_ARGS="--section where --section python"
}
tour >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "make tour failed (status $rc): $(tail -n 20 "$tmp/out")"
for want in 'memwalk: missing python3: section 5' 'memwalk: missing valgrind: section 6' \
            'memwalk: missing pkg-config: ' 'not root and no password-less sudo' \
            'memwalk: building with ' '^== 1\. Where things live' 'skipped: .*python3'; do
  grep -q -- "$want" "$tmp/out" || fail "no line matching '$want' in: $(cat "$tmp/out")"
done
first=$(grep -n '^A walk on memory' "$tmp/out" | head -n 1 | cut -d: -f1)
[ -n "$first" ] && [ "$first" -le 24 ] ||
  fail "the tour's first line is not on the first screen (line ${first:-none}): $(head -n 30 "$tmp/out")"
grep -q 'Nothing to be done' "$tmp/out" && fail "'Nothing to be done' noise: $(cat "$tmp/out")"
# A second make finds everything up to date: not one compiler or linker command.
timeout 120 runuser -u "$user" -- env -i PATH="$tmp/bin" HOME="$tmp" \
  make -C "$tmp/src" --no-print-directory V=1 all examples >"$tmp/again" 2>&1 ||
  fail "second make failed: $(cat "$tmp/again")"
grep -Eq '(^| )(gcc|cc|ar) ' "$tmp/again" && fail "a second make rebuilt: $(cat "$tmp/again")"
echo "check-tour-anyone: ok: make tour as $user without sudo, $(grep -c '^memwalk: missing' "$tmp/out") parts missing, tour on line $first"
