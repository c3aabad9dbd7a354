#!/usr/bin/env bash
# Harness self-test of `piclab coverage --strict` (what `make check` ends with), on synthetic
# run folders (results.json only, no lab): it exits 0 only when every requirement id of
# reports/requirements.tsv has a passing scenario; an id untested, failing or covered only by
# skipped scenarios makes it exit 1 and name the id. Without --strict only a failing id does.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
out=$(mktemp -d /tmp/piclab-covstrict.XXXXXX)
trap 'rm -rf "$out"' EXIT
fails=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }

ids=$(awk -F'\t' 'NR > 1 && $1 != "" { print $1 }' "$root/reports/requirements.tsv")
[ -n "$ids" ] || { echo "FAIL - no requirement ids in reports/requirements.tsv"; exit 1; }
# run NAME ID=VERDICT...: a run folder with one passing scenario per id, except the ids given,
# which get a scenario of that verdict ("none": no scenario at all)
run() {
	local dir="$out/$1" sep="" id v; shift
	mkdir -p "$dir"
	{
		printf '{"scenarios":['
		for id in $ids; do
			v=pass
			for o in "$@"; do [ "${o%%=*}" = "$id" ] && v=${o#*=}; done
			[ "$v" = none ] && continue
			printf '%s{"name":"t/%s","covers":["%s"],"verdict":"%s"}' "$sep" "$id" "$id" "$v"
			sep=,
		done
		printf ']}\n'
	} >"$dir/results.json"
}
cov() { "$piclab" coverage "$@" >"$out/cov.out" 2>&1; echo $?; }

run all
check "every id passing: --strict exits 0" '[ "$(cov --strict "$out/all")" = 0 ]'
run untested IM-004=none
check "an untested id: --strict exits 1" '[ "$(cov --strict "$out/untested")" = 1 ]'
check "... and names it" 'grep -q "coverage --strict: not proven by a passing scenario: IM-004 (untested)" "$out/cov.out"'
check "an untested id without --strict: exit 0" '[ "$(cov "$out/untested")" = 0 ]'
run skipped TLS-007=skip
check "an id covered only by a skipped scenario: --strict exits 1" '[ "$(cov --strict "$out/skipped")" = 1 ]'
check "... and names it" 'grep -q "not proven by a passing scenario: TLS-007 (skipped)" "$out/cov.out"'
run failing AUD-004=fail
check "a failing id: --strict exits 1" '[ "$(cov --strict "$out/failing")" = 1 ]'
check "a failing id without --strict: exit 1" '[ "$(cov "$out/failing")" = 1 ]'
check "... shown failing" 'grep -q "^AUD-004 *failing" "$out/cov.out"'
run errored ROB-005=error
check "an id whose scenario errored: --strict exits 1" '[ "$(cov --strict "$out/errored")" = 1 ]'
check "an errored id counts as failing, also without --strict: exit 1" '[ "$(cov "$out/errored")" = 1 ]'
if [ "$fails" != 0 ]; then echo "--- last coverage output:"; cat "$out/cov.out"; fi
echo "coverage_strict.sh: $((11 - fails)) passed, $fails failed"
[ "$fails" = 0 ]
