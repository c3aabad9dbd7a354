#!/usr/bin/env bash
# Mutation test of the capture invariants: accessproxy built with topology hiding switched off,
# and with trust marking switched off, must fail the scenarios that cross them, with a reason
# that says what leaked where. (The mutants are built by `make tests-build`, in
# build/mutants/NO_TOPO and build/mutants/NO_TRUST.)
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
out=$(mktemp -d /tmp/piclab-mutants.XXXXXX)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0
check() { if eval "$2"; then echo "ok   - $1"; passed=$((passed + 1)); else echo "FAIL - $1"; failed=$((failed + 1)); fi; }

# 1. no topology hiding: the smoke scenario must fail on the topology-hiding invariant.
"$piclab" run -j1 --lab 242 --out "$out/topo" --sut "$root/$BUILD/mutants/NO_TOPO/bin/accessproxy" \
	"$root/scenarios/smoke/message_both_ways.lua" >"$out/topo.log" 2>&1
rc=$?
check "no-topo mutant: piclab exits 1 (got $rc)" '[ "$rc" = 1 ]'
check "no-topo mutant: fails on invariant topology-hiding" 'grep -q "invariant topology-hiding violated" "$out/topo.log"'
check "no-topo mutant: the reason names the leaked internal name and the header" \
	'grep -q "internal name pool.contoso.test leaked on the external leg in MESSAGE from .* \"Via: SIP/2.0/TLS pool.contoso.test" "$out/topo.log"'

# 2. no trust marking: the smoke scenario must fail on the trust-header invariant.
"$piclab" run -j1 --lab 242 --out "$out/trust" --sut "$root/$BUILD/mutants/NO_TRUST/bin/accessproxy" \
	"$root/scenarios/smoke/message_both_ways.lua" >"$out/trust.log" 2>&1
rc=$?
check "no-trust mutant: piclab exits 1 (got $rc)" '[ "$rc" = 1 ]'
check "no-trust mutant: fails on invariant trust-header, naming the request and the count" \
	'grep -q "invariant trust-header violated: MESSAGE from .* passed inward from aol.test carries 0 ms-edge-proxy-message-trust headers" "$out/trust.log"'

# 3. the real proxy passes the same scenario.
"$piclab" run -j1 --lab 242 --out "$out/good" "$root/scenarios/smoke/message_both_ways.lua" >"$out/good.log" 2>&1
rc=$?
check "the real accessproxy passes the same scenario (got $rc)" '[ "$rc" = 0 ]'
if [ "$failed" != 0 ]; then
	for f in topo trust good; do echo "--- $f:"; grep -v "^results" "$out/$f.log" | head -8; done
fi
echo "mutants.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
