#!/usr/bin/env bash
# Harness self-test: a scenario whose accessproxy is killed mid-run fails with the reason (not
# with its time limit), piclab exits 1, and no accessproxy process is left behind.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/piclab-selftest.XXXXXX)
trap 'rm -rf "$out"' EXIT
log="$out/piclab.out"

"$root/$BUILD/bin/piclab" run --out "$out" --lab 240 "$root/scenarios/fixtures/sut_killed.lua" >"$log" 2>&1
rc=$?
fails=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }

check "piclab exits 1 (a scenario failed), got $rc" '[ "$rc" = 1 ]'
check "the verdict is fail" 'grep -q "^fail  *sut_killed\|^fail  *fixtures/sut_killed" "$log"'
check "the reason names the killed proxy" 'grep -q "killed by signal 9" "$log"'
check "the reason is not the time limit" '! grep -q "time limit of" "$log"'
check "the summary line is printed" 'grep -q "^0 passed, 1 failed" "$log"'
check "no accessproxy of this run is left" '! pgrep -f "accessproxy -c $out" >/dev/null'
if [ "$fails" != 0 ]; then
	echo "--- piclab output:"; cat "$log"
fi
echo "sut_killed.sh: $((6 - fails)) passed, $fails failed"
[ "$fails" = 0 ]
