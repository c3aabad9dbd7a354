#!/usr/bin/env bash
# Harness self-test: the worker count is a lab setting that reaches the proxy. A scenario's
# `lab = { workers = 2 }` gives a proxy with 2 worker processes, `piclab run --workers 3`
# overrides it with 3, and results.json records the count (so `make check`'s workers pass
# really judges a multi-process proxy). IM crosses both ways each time. Lab 190.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
fixture="$root/scenarios/fixtures/workers_count.lua"
out=$(mktemp -d /tmp/piclab-workers.XXXXXX)
trap 'rm -rf "$out"' EXIT
fails=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }

"$piclab" run -j1 --out "$out/setting" --lab 190 "$fixture" >"$out/setting.out" 2>&1
rc=$?
check "lab.workers = 2: the scenario passes, got exit $rc" '[ "$rc" = 0 ]'
check "lab.workers = 2: 2 worker processes" \
	'grep -q "workers: config 2, worker processes 2" "$out"/setting/*/fixtures.workers_count/lab.log'
check "lab.workers = 2: results.json says 2" 'grep -q "\"workers\":2" "$out"/setting/*/results.json'

"$piclab" run -j1 --out "$out/flag" --lab 190 --workers 3 "$fixture" >"$out/flag.out" 2>&1
rc=$?
check "--workers 3: the scenario passes, got exit $rc" '[ "$rc" = 0 ]'
check "--workers 3 overrides lab.workers: 3 worker processes" \
	'grep -q "workers: config 3, worker processes 3" "$out"/flag/*/fixtures.workers_count/lab.log'
check "--workers 3: results.json says 3" 'grep -q "\"workers\":3" "$out"/flag/*/results.json'
if [ "$fails" != 0 ]; then
	echo "--- piclab output:"; cat "$out/setting.out" "$out/flag.out"
fi
echo "workers_count.sh: $((6 - fails)) passed, $fails failed"
[ "$fails" = 0 ]
