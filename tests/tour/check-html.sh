#!/usr/bin/env bash
# memwalk tour --html in a real browser: the page is made (a bad path fails first, with 3), it
# references nothing outside itself, and headless Chromium loads it without a console message
# and without loading another file; the rendered DOM has every section heading, the map drawn by
# `maps --svg` and the charts; screenshots for a laptop and a phone are kept for a look.
# Usage: check-html.sh MEMWALK [OUTDIR]   (the screenshots go to OUTDIR, default a temp dir)
set -u
memwalk=$1
tmp=$(mktemp -d)
out=${2:-$tmp}
mkdir -p "$out" || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-tour-html: $*"; exit 1; }
browser=$(command -v chromium || command -v chromium-browser) ||
  fail "chromium not found (scripts/install-deps installs Debian's chromium)"

# A path that cannot be written fails before the tour runs, with status 3, and writes nothing.
start=$(date +%s)
"$memwalk" tour --html /nonexistent/dir/tour.html >"$tmp/o" 2>"$tmp/e"
rc=$?
[ "$rc" -eq 3 ] || fail "unwritable --html: status $rc, expected 3"
grep -q '^memwalk: tour: /nonexistent/dir/tour.html: No such file' "$tmp/e" ||
  fail "unwritable --html: $(cat "$tmp/e")"
[ -s "$tmp/o" ] && fail "unwritable --html: the tour ran anyway"
[ $(($(date +%s) - start)) -le 2 ] || fail "unwritable --html: took time before failing"

page=$tmp/tour.html
timeout 300 "$memwalk" tour --html "$page" >"$tmp/progress" 2>&1 ||
  fail "tour --html failed: $(cat "$tmp/progress")"
grep -q "^memwalk tour: wrote $page (8 sections" "$tmp/progress" || fail "$(cat "$tmp/progress")"
# Self-contained: no script, no stylesheet or image from elsewhere, no link out of the page.
grep -Eiq '<script|<link|<img|<iframe|@import|url\(|src=' "$page" && fail "page loads something"
grep -Eo 'href="[^"]*"' "$page" | grep -v '^href="#' && fail "a link leaves the page"
grep -Eo '(https?|file|ftp)://[^" <]*' "$page" | grep -v '^http://www.w3.org/2000/svg$' &&
  fail "an address other than the SVG namespace"
# --html - is the page on standard output, the progress on standard error.
"$memwalk" tour --html - --section 2 >"$tmp/stdout.html" 2>"$tmp/err" || fail "--html - failed"
head -n 1 "$tmp/stdout.html" | grep -q '^<!DOCTYPE html>' || fail "--html -: not a page on stdout"
grep -q '^2. The stack ... done' "$tmp/err" || fail "--html -: no progress on stderr"

# The browser: console messages and file loads are in its log (verbose level 1).
chrome() {
  HOME=$tmp timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$tmp/profile" --enable-logging=stderr --v=1 "$@" "file://$page"
}
chrome --dump-dom >"$tmp/dom" 2>"$tmp/log" || fail "chromium could not load the page"
grep ':CONSOLE' "$tmp/log" && fail "console messages while loading the page"
loads=$(grep -o 'FileURLLoader::Start: [^ ]*' "$tmp/log" | sort -u | grep -v "file://$page\$")
[ -z "$loads" ] || fail "the page loaded other files: $loads"
grep -Eq 'URLLoader.*https?://' "$tmp/log" && fail "the page went to the network"
for title in 'Where things live' 'The stack' 'How deep can it go' 'Stack vs heap' \
             "Python's memory" 'Leaks' 'Cleanup' 'Garbage collection'; do
  t=$(printf '%s' "$title" | sed "s/'/\\&#39;/g")
  grep -Eq "<h2>[0-9]\. ($title|$t)</h2>" "$tmp/dom" || fail "no heading '$title' in the DOM"
done
tr '\n' ' ' <"$tmp/dom" >"$tmp/dom1"
grep -q '<figure class="maps"> *<svg' "$tmp/dom1" || fail "no map of the address space"
grep -q '<figure class="chart"> *<svg' "$tmp/dom1" || fail "no chart"
grep -q 'Address space of process' "$tmp/dom" || fail "the map is not the one maps --svg draws"
grep -q 'stack-vs-heap: ' "$tmp/dom" || fail "no stack-vs-heap chart"
grep -q 'sizes: ' "$tmp/dom" || fail "no sizes chart"
[ "$(grep -c '<details>' "$tmp/dom")" -eq 8 ] || fail "not one folded raw-JSON block a section"

# Screenshots, a laptop's and a phone's (the latter in the dark scheme).
chrome --screenshot="$out/tour-laptop.png" --window-size=1280,2000 >/dev/null 2>&1
chrome --screenshot="$out/tour-phone.png" --window-size=390,1600 --force-dark-mode \
  >/dev/null 2>&1
for png in "$out/tour-laptop.png" "$out/tour-phone.png"; do
  [ "$(head -c 8 "$png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "no screenshot $png"
  [ "$(stat -c %s "$png")" -gt 20000 ] || fail "screenshot $png is blank"
done
echo "check-tour-html: ok: page of $(stat -c %s "$page") bytes, 8 headings, map and charts," \
  "no console message, no other load; screenshots in $out"
