#!/usr/bin/env bash
# Harness self-test: a lab whose key log lost the keys of flows that carried SIP cannot pass.
# The invariant "decrypted" fails the scenario naming the flow (fixtures/keys_lost), and a
# "nothing crossed" check (capture:expect{count=0}) on that leg fails itself, at its own line,
# instead of passing by default (fixtures/keys_lost_expect). Lab 189.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/piclab-keyslost.XXXXXX)
trap 'rm -rf "$out"' EXIT
log="$out/piclab.out"

"$root/$BUILD/bin/piclab" run -j1 --out "$out" --lab 189 "$root/scenarios/fixtures/keys_lost.lua" \
	"$root/scenarios/fixtures/keys_lost_expect.lua" >"$log" 2>&1
rc=$?
fails=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }
# the reason printed under a scenario's verdict line
reason() { awk -v n="$1" '$2 == n { getline; print; exit }' "$log"; }

check "piclab exits 1 (scenarios failed), got $rc" '[ "$rc" = 1 ]'
check "keys_lost fails" 'grep -q "^fail  *fixtures/keys_lost " "$log"'
check "keys_lost fails by the invariant decrypted, naming the flow" \
	'reason fixtures/keys_lost | grep -q "invariant decrypted violated: TLS flow 127\.77\.189\.[0-9]*:[0-9]* (.*) -> 127\.77\.189\.[0-9]*:[0-9]* (.*) on the .* leg was not decrypted"'
check "keys_lost_expect fails" 'grep -q "^fail  *fixtures/keys_lost_expect " "$log"'
check "keys_lost_expect fails at its capture:expect{count=0}, naming the external flow" \
	'reason fixtures/keys_lost_expect | grep -q "keys_lost_expect\.lua:[0-9]*: capture: TLS flow .* on the external leg was not decrypted"'
check "the summary line is printed" 'grep -q "^0 passed, 2 failed" "$log"'
if [ "$fails" != 0 ]; then
	echo "--- piclab output:"; cat "$log"
fi
echo "keys_lost.sh: $((6 - fails)) passed, $fails failed"
[ "$fails" = 0 ]
