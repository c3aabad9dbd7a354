#!/usr/bin/env bash
# Sharding: a suite run as 4 shards (`piclab run --shard K/4`, as 4 CI jobs would) and merged
# with `piclab merge` gives the same counts and the same requirement coverage as the suite run
# at once; a scenario given twice or a folder that is no run is refused with exit 2.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
out=$(mktemp -d /tmp/piclab-shards.XXXXXX)
trap 'rm -rf "$out"' EXIT
suite=("$root/scenarios/smoke" "$root/scenarios/trust" "$root/scenarios/policy")
fails=0
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }

"$piclab" run -j2 --lab 175 --seed 7 --out "$out/whole" "${suite[@]}" >"$out/whole.log" 2>&1
whole_rc=$?
for k in 1 2 3 4; do
	"$piclab" run -j2 --lab 175 --seed 7 --shard "$k/4" --out "$out/s$k" "${suite[@]}" \
		>"$out/s$k.log" 2>&1
done
runs=()
for k in 1 2 3 4; do runs+=("$(readlink -f "$out/s$k/latest")"); done
"$piclab" merge -o "$out/merged" "${runs[@]}" >"$out/merge.log" 2>&1
merge_rc=$?
whole=$(readlink -f "$out/whole/latest")
merged=$(readlink -f "$out/merged/latest")

check "the whole run passed (rc $whole_rc)" '[ "$whole_rc" = 0 ]'
check "merge exits like the whole run (rc $merge_rc)" '[ "$merge_rc" = "$whole_rc" ]'
count() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["scenarios"]), sorted(s["name"]+"="+s["verdict"] for s in d["scenarios"]))' "$1/results.json"; }
check "same scenarios and verdicts" '[ "$(count "$whole")" = "$(count "$merged")" ]'
check "every shard ran some of it" '[ "$(ls -d "$out"/s*/latest | wc -l)" = 4 ]'
"$piclab" coverage "$whole" >"$out/cov.whole" 2>&1
"$piclab" coverage "$merged" >"$out/cov.merged" 2>&1
check "same requirement coverage" 'diff -q "$out/cov.whole" "$out/cov.merged" >/dev/null'
check "the merged junit.xml names every scenario" \
	'[ "$(grep -c "<testcase " "$merged/junit.xml")" = "$(grep -c "<testcase " "$whole/junit.xml")" ]'
check "the merged report has every scenario's capture" \
	'[ "$(ls "$merged"/*/capture.pcap | wc -l)" = "$(ls "$whole"/*/capture.pcap | wc -l)" ]'
check "the merged report is written" '[ -s "$merged/index.html" ]'
"$piclab" merge -o "$out/twice" "${runs[0]}" "${runs[0]}" >"$out/twice.log" 2>&1
rc=$?
check "the same shard twice is refused with exit 2 (rc $rc)" '[ "$rc" = 2 ] && grep -q "is in both" "$out/twice.log"'
"$piclab" merge -o "$out/bad" "$out" >"$out/bad.log" 2>&1
rc=$?
check "a folder that is no run is refused with exit 2 (rc $rc)" '[ "$rc" = 2 ] && grep -q "results.json" "$out/bad.log"'
if [ "$fails" != 0 ]; then
	for f in whole.log merge.log twice.log bad.log; do echo "--- $f"; cat "$out/$f"; done
	diff "$out/cov.whole" "$out/cov.merged"
fi
echo "shard_merge.sh: $((n - fails)) passed, $fails failed"
[ "$fails" = 0 ]
