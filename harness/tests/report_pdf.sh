#!/usr/bin/env bash
# The report prints cleanly: a synthetic run of 40 scenarios (reports/synth.lua, no lab) printed
# to PDF by headless Chromium must make a multi-page A4 document whose text (pdftotext) holds the
# summary and the PICS statement; a scenario page prints without its screen-only navigation.
# Needs chromium and poppler-utils (pdfinfo, pdftotext); without them it says skip.
set -u
root=${PICLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
name=report_pdf.sh
. "$root/harness/tests/report_lib.bash"
chromium=$(command -v chromium || true)
if [ -z "$chromium" ] || ! command -v pdftotext >/dev/null || ! command -v pdfinfo >/dev/null; then
	echo "skip: chromium or poppler-utils not installed (Debian packages chromium, poppler-utils)"
	echo "$name: 0 passed, 0 failed (skipped)"
	exit 0
fi
tmp=$(mktemp -d /tmp/piclab-pdf.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
lua5.4 "$root/reports/synth.lua" "$root" "$tmp/run" 40 >/dev/null
pdf() {
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$tmp/profile" --no-pdf-header-footer --print-to-pdf="$2" "file://$1" \
		>>"$tmp/chromium.log" 2>&1
}
pdf "$tmp/run/index.html" "$tmp/index.pdf"
check "chromium --print-to-pdf makes index.pdf" '[ -s "$tmp/index.pdf" ]'
pages=$(pdfinfo "$tmp/index.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
size=$(pdfinfo "$tmp/index.pdf" 2>/dev/null | sed -n 's/^Page size: *//p')
echo "index.pdf: ${pages:-?} pages, $size"
check "the index prints on several A4 pages, not one endless one (${pages:-?} pages)" \
	'[ -n "$pages" ] && [ "$pages" -ge 3 ] && [ "$pages" -le 30 ] && printf "%s" "$size" | grep -q "(A4)"'
pdftotext -layout "$tmp/index.pdf" "$tmp/index.txt"
check "the PDF text holds the summary" \
	'grep -q "Run run: 40 scenarios" "$tmp/index.txt" && grep -q "24 pass" "$tmp/index.txt" &&
	 grep -q "4 inconc" "$tmp/index.txt"'
check "the PDF text holds the PICS statement and the coverage matrix" \
	'grep -q "All mandatory capabilities implemented: yes" "$tmp/index.txt" &&
	 grep -q "Requirement coverage" "$tmp/index.txt" && grep -q "ROB-006" "$tmp/index.txt"'
failing=$(lj "$tmp/run/results.json" '(function() for _, s in ipairs(r.scenarios) do if s.verdict == "fail" then return s.name end end end)()')
pdf "$tmp/run/$(lj "$tmp/run/results.json" "S(\"$failing\").page")" "$tmp/page.pdf"
pdftotext -layout "$tmp/page.pdf" "$tmp/page.txt"
check "a failing scenario's page ($failing) prints its verdict and expected vs actual" \
	'grep -q "fail  *$failing" "$tmp/page.txt" && grep -q "expected  *actual" "$tmp/page.txt" &&
	 grep -q "403  *200" "$tmp/page.txt"'
check "the page prints every decoded message, folded ones too" \
	'grep -q "branch=z9hG4bKsynth1" "$tmp/page.txt" && grep -q "SIP/2.0 200 OK" "$tmp/page.txt"'
check "the page prints its evidence link to the message before the failure (frame 20, #2)" \
	'grep -q "frame 20, message #2" "$tmp/page.txt"'
check "the page prints without its screen navigation (print CSS)" \
	'[ -s "$tmp/page.txt" ] && ! grep -q "report index" "$tmp/page.txt"'
[ "$fails" = 0 ] || tail -5 "$tmp/chromium.log"
finish
