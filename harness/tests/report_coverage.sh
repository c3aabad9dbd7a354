#!/usr/bin/env bash
# Requirement status from a run's results.json, without a lab: `piclab coverage` and the side by
# side of `piclab compare` call a requirement n/a only when the PICS the run recorded makes it
# n/a (reports/requirements-status.tsv). A mandatory requirement whose only scenario was n/a
# (because that scenario also covers a conditional one) is untested, and --strict says so.
set -u
BUILD=${BUILD:-build}
root=${PICLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
name=report_coverage.sh
. "$root/harness/tests/report_lib.bash"
piclab="$root/$BUILD/bin/piclab"
tmp=$(mktemp -d /tmp/piclab-coverage.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The PICS of a SUT without archiving (AUD-001..005 are c:ARCHIVING); every other item yes.
items() {
	local arch=$1 out="" item
	for item in $(awk -F'\t' '!/^#/ && $1 != "item" { print $1 }' "$root/reports/pics/items.tsv"); do
		local sup=true
		[ "$item" = ARCHIVING ] && sup=$arch
		out="$out${out:+,}{\"item\":\"$item\",\"supported\":$sup}"
	done
	printf '%s' "$out"
}
sc() { printf '{"name":"%s","verdict":"%s","covers":[%s]}' "$1" "$2" "$3"; }
mkdir -p "$tmp/noarch" "$tmp/arch"
cat >"$tmp/noarch/results.json" <<JSON
{"pics":{"sut":"noarch","items":[$(items false)]},"scenarios":[
 $(sc policy/user_not_enabled n/a '"POL-001","POL-002","AUD-001"'),
 $(sc policy/pic_switch pass '"POL-003"')]}
JSON
cat >"$tmp/arch/results.json" <<JSON
{"pics":{"sut":"all","items":[$(items true)]},"scenarios":[
 $(sc policy/user_not_enabled pass '"POL-001","POL-002","AUD-001"'),
 $(sc policy/pic_switch pass '"POL-003"')]}
JSON

"$piclab" coverage "$tmp/noarch" >"$tmp/cov.out" 2>&1
rc=$?
st() { awk -v id="$1" '$1 == id { print $2 }' "$tmp/cov.out"; }
check "coverage runs over a results.json with a recorded PICS (rc $rc)" '[ "$rc" = 0 ] && grep -q "^[0-9]* requirements: " "$tmp/cov.out"'
check "coverage: mandatory POL-002, covered only by an n/a scenario, is untested (got $(st POL-002))" \
	'[ "$(st POL-002)" = untested ] && [ "$(st POL-001)" = untested ]'
check "coverage: AUD-001 (c:ARCHIVING, answered no) is n/a (got $(st AUD-001))" '[ "$(st AUD-001)" = "n/a" ]'
check "coverage: AUD-002 is n/a by the PICS though no scenario of the run names it (got $(st AUD-002))" \
	'[ "$(st AUD-002)" = "n/a" ]'
check "coverage: POL-003 passing, and the n/a count is the five AUD ids" \
	'[ "$(st POL-003)" = passing ] && grep -q ", 5 n/a$" "$tmp/cov.out"'
"$piclab" coverage --strict "$tmp/noarch" >"$tmp/strict.out" 2>&1
rc=$?
check "coverage --strict fails on POL-002 untested, and not on the n/a AUD ids (rc $rc)" \
	'[ "$rc" = 1 ] && grep -q "not proven by a passing scenario: .*POL-002 (untested)" "$tmp/strict.out" &&
	 ! grep -q "AUD-00[1-5] (" "$tmp/strict.out"'

"$piclab" compare "$tmp/arch" "$tmp/noarch" >"$tmp/cmp.out" 2>&1
check "compare side by side: POL-002 passing in A, untested in B" 'grep -Eq "^POL-002 +A passing +B untested" "$tmp/cmp.out"'
check "compare side by side: AUD-002 untested in A, n/a in B (its PICS)" 'grep -Eq "^AUD-002 +A untested +B n/a" "$tmp/cmp.out"'
"$piclab" compare "$tmp/arch" "$tmp/noarch" --html "$tmp/sbs.html" >/dev/null 2>&1
check "compare --html: the page's row of POL-002 says passing for A, untested for B" \
	'grep -q "<td class=\"id\"><a href=\"#req-POL-002\">POL-002</a></td><td class=\"passing\">passing</td><td class=\"untested\">untested</td>" "$tmp/sbs.html"'
[ "$fails" = 0 ] || { cat "$tmp/cov.out" | head -100; cat "$tmp/cmp.out"; }
finish
