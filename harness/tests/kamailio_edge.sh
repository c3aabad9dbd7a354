#!/usr/bin/env bash
# --sut-kind kamailio: the lab writes a Kamailio edge configuration per lab and judges Kamailio
# with the same scenarios as accessproxy. The mutual TLS, trust-header, topology-hiding,
# Max-Forwards, loop and refusal scenarios give it a real verdict (here: pass), a scenario that
# needs apctl is not applicable, and none ends in a harness error.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
out=$(mktemp -d /tmp/piclab-kamailio.XXXXXX)
trap 'rm -rf "$out"' EXIT
fails=0
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }

if [ ! -x /usr/sbin/kamailio ] || [ ! -f /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ]; then
	echo "FAIL - Kamailio is not installed: 'make deps' installs kamailio and kamailio-tls-modules"
	echo "kamailio_edge.sh: 0 passed, 1 failed"
	exit 1
fi
must_pass=(smoke/message_both_ways tls/external_mtls_only tls/versions trust/marking_modes
	topology/record_route sip/max_forwards sip/loop_482 sip/via_path
	policy/im_and_presence_only policy/multiparty_refused policy/provider_not_allowed)
paths=()
for s in "${must_pass[@]}"; do paths+=("$root/scenarios/$s.lua"); done
"$piclab" run -j2 --lab 173 --sut-kind kamailio --out "$out" "${paths[@]}" \
	"$root/scenarios/policy/licences.lua" "$root/scenarios/conf/config_check.lua" >"$out/run.log" 2>&1
rc=$?
run=$(readlink -f "$out/latest")
check "piclab ran the scenarios against Kamailio (rc $rc, 0 or 1)" '[ "$rc" = 0 ] || [ "$rc" = 1 ]'
for s in "${must_pass[@]}"; do
	check "$s passes against Kamailio" 'grep -q "^pass  $s " "$out/run.log"'
done
check "a scenario that needs apctl is not applicable" \
	'grep -A1 "^skip  policy/licences" "$out/run.log" | grep -q "not applicable"'
check "a scenario written for accessproxy's files is not applicable" \
	'grep -A1 "^skip  conf/config_check" "$out/run.log" | grep -q "not applicable: written for accessproxy"'
check "no harness errors" '! grep -q "^error" "$out/run.log"'
check "the lab wrote Kamailio's configuration" \
	'grep -q "include_file" "$run/smoke.message_both_ways/kamailio.cfg" && grep -q "^\[client:any\]" "$run/smoke.message_both_ways/kamailio-tls.cfg"'
check "Kamailio itself answered (its log is the SUT log)" 'grep -q "kamailio\|Kamailio\|<core>" "$run/smoke.message_both_ways/sut.log"'
check "no Kamailio is left running" '! pgrep -f "kamailio.*$out" >/dev/null'
[ "$fails" != 0 ] && cat "$out/run.log"
echo "kamailio_edge.sh: $((n - fails)) passed, $fails failed"
[ "$fails" = 0 ]
