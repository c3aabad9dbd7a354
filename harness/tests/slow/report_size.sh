#!/usr/bin/env bash
# The report stays fast as suites grow: a synthetic run of 1,000 scenarios (reports/synth.lua,
# the real renderers, no lab) must give an index.html under 1 MB, with one page per scenario.
# Not in `make unit` (it writes ~6 MB); run it with `make report-size`.
set -u
root=${PICLAB_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
name=report_size.sh
. "$root/harness/tests/report_lib.bash"
tmp=$(mktemp -d /tmp/piclab-size.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=${SCENARIOS:-1000}
size=$(lua5.4 "$root/reports/synth.lua" "$root" "$tmp/run" "$n")
echo "index.html for $n scenarios: $size bytes"
check "the synthetic run rendered (index size $size)" '[ -n "$size" ] && [ "$size" -gt 0 ]'
check "index.html of $n scenarios is under 1 MB ($size bytes)" '[ "$size" -lt 1048576 ]'
check "one page per scenario ($n)" '[ "$(ls "$tmp/run/pages" | wc -l)" = "$n" ]'
check "the index links every scenario page" '[ "$(grep -o "href=\"pages/[^\"#]*\">[a-z]*/synthetic_" "$tmp/run/index.html" | sort -u | wc -l)" = "$n" ]'
finish
