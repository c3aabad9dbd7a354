#!/usr/bin/env bash
# --sut-kind external: an accessproxy started by hand from `piclab edge-kit`'s files is judged
# by the lab like its own SUT; scenarios that need to run or administer the SUT, or a provider
# table other than the kit's, are not applicable (n/a, with the reason), never errors.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/$BUILD/bin"
lab=176
out=$(mktemp -d /tmp/piclab-external.XXXXXX)
ap=
cleanup() { [ -n "$ap" ] && kill "$ap" 2>/dev/null; wait 2>/dev/null; rm -rf "$out"; }
trap cleanup EXIT
fails=0
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }

"$bin/piclab" run --sut-kind external --lab $lab --pki "$out/kit/pki" --out "$out/none" \
	"$root/scenarios/smoke" >"$out/none.log" 2>&1
rc=$?
check "no edge running: the lab says so and what to do (rc $rc)" \
	'[ "$rc" != 0 ] && grep -q "no external edge accepts on 127.77.$lab.3:5061" "$out/none.log" && grep -q "edge-kit" "$out/none.log"'

"$bin/piclab" edge-kit --lab $lab "$out/kit" >"$out/kit.log" 2>&1
check "edge-kit writes the PKI, an accessproxy config and the instructions" \
	'[ -s "$out/kit/pki/ap.contoso.test.crt" ] && [ -s "$out/kit/accessproxy.conf" ] && grep -q "127.77.$lab.4:5061" "$out/kit/EDGE.txt"'
"$bin/apctl" -c "$out/kit/accessproxy.conf" users import "$out/kit/users.csv" >"$out/apctl.log" 2>&1
"$bin/accessproxy" -c "$out/kit/accessproxy.conf" >"$out/edge.log" 2>&1 &
ap=$!
for _ in $(seq 50); do
	awk -v h="$(printf "%02X%02X%02X%02X:13C5" 4 $lab 77 127)" '$2 == h && $4 == "0A" {f=1} END {exit !f}' /proc/net/tcp && break
	sleep 0.1
done

"$bin/piclab" run --sut-kind external --lab $lab --pki "$out/kit/pki" --out "$out/run" \
	"$root/scenarios/smoke" "$root/scenarios/sip/max_forwards.lua" "$root/scenarios/sip/loop_482.lua" \
	"$root/scenarios/policy" "$root/scenarios/trust" "$root/scenarios/conf/config_check.lua" \
	>"$out/run.log" 2>&1
rc=$?
check "piclab exits 0 against the hand-started edge (rc $rc)" '[ "$rc" = 0 ]'
check "the MESSAGE scenario passes through it" 'grep -q "^pass  smoke/message_both_ways" "$out/run.log"'
check "Max-Forwards and loop scenarios pass" 'grep -q "^pass  sip/max_forwards" "$out/run.log" && grep -q "^pass  sip/loop_482" "$out/run.log"'
check "the refusals pass" 'grep -q "^pass  policy/inbound_domains" "$out/run.log" && grep -q "^pass  policy/im_and_presence_only" "$out/run.log"'
check "a scenario with another provider table is not applicable" \
	'grep -A1 "^n/a   trust/marking_modes" "$out/run.log" | grep -q "not applicable to SUT kind external: the scenario.s provider table"'
check "a scenario that administers the SUT is not applicable" \
	'grep -A1 "^n/a   policy/licences" "$out/run.log" | grep -q "not applicable: lab:apctl"'
check "a scenario written for accessproxy's files is not applicable" \
	'grep -A1 "^n/a   conf/config_check" "$out/run.log" | grep -q "not applicable"'
check "no harness errors" '! grep -q "^error" "$out/run.log"'
check "the edge is still the one started by hand" 'kill -0 "$ap"'
if [ "$fails" != 0 ]; then
	for f in none.log run.log edge.log; do echo "--- $f"; cat "$out/$f"; done
fi
echo "external_edge.sh: $((n - fails)) passed, $fails failed"
[ "$fails" = 0 ]
