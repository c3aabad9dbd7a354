#!/usr/bin/env bash
# --sut-kind kamailio: the lab writes a Kamailio edge configuration per lab and judges Kamailio
# with the same scenarios as accessproxy. The mutual TLS, trust-header, topology-hiding,
# Max-Forwards, loop and refusal scenarios give it a real verdict (here: pass); changes made
# while it runs (provider allowed or not, the PIC switch: htables through kamcmd; a
# certificate: tls.reload) are applied by the adapter; an apctl operation it has no place for
# is not applicable, and none ends in a harness error.
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
must_pass=(smoke/message_both_ways tls/external_mtls_only tls/versions
	topology/record_route sip/max_forwards sip/loop_482 sip/via_path
	policy/im_and_presence_only policy/provider_not_allowed
	conf/live_changes policy/pic_switch tls/reload_new_cert_used)
# what the generated Kamailio configuration does not do: the verdicts must tell the edges apart
must_fail=(policy/multiparty_refused)
paths=()
for s in "${must_pass[@]}" "${must_fail[@]}"; do paths+=("$root/scenarios/$s.lua"); done
"$piclab" run -j2 --lab 173 --sut-kind kamailio --out "$out" "${paths[@]}" \
	"$root/scenarios/policy/licences.lua" "$root/scenarios/conf/config_check.lua" >"$out/run.log" 2>&1
rc=$?
run=$(readlink -f "$out/latest")
check "piclab ran the scenarios against Kamailio (rc $rc, 0 or 1)" '[ "$rc" = 0 ] || [ "$rc" = 1 ]'
for s in "${must_pass[@]}"; do
	check "$s passes against Kamailio" 'grep -q "^pass  $s " "$out/run.log"'
done
for s in "${must_fail[@]}"; do
	check "$s fails against Kamailio (a real verdict, not an error)" 'grep -q "^fail  $s " "$out/run.log"'
done
check "an apctl operation Kamailio cannot apply (licences) is not applicable, and says what it can" \
	'grep -A1 "^n/a   policy/licences" "$out/run.log" | grep -q "not applicable: lab:apctl licences: a Kamailio edge applies providers allow|disallow"'
check "a scenario written for accessproxy's files is not applicable" \
	'grep -A1 "^n/a   conf/config_check" "$out/run.log" | grep -q "not applicable: written for accessproxy"'
check "no harness errors" '! grep -q "^error" "$out/run.log"'
check "the lab wrote Kamailio's configuration" \
	'grep -q "include_file" "$run/smoke.message_both_ways/kamailio.cfg" && grep -q "^\[client:any\]" "$run/smoke.message_both_ways/kamailio-tls.cfg"'
check "Kamailio itself answered (its log is the SUT log)" 'grep -q "kamailio\|Kamailio\|<core>" "$run/smoke.message_both_ways/sut.log"'
check "no Kamailio is left running" '! pgrep -f "kamailio.*$out" >/dev/null'
# the report names what was judged, and a side-by-side view tells the two edges apart
check "results.json names the SUT kind and Kamailio's own version" \
	'grep -q "\"kind\":\"kamailio\"" "$run/results.json" && grep -Eq "\"identity\":\"kamailio [0-9]+\.[0-9]+" "$run/results.json"'
check "the report's header shows the SUT kind and identity" \
	'grep -q "<th>sut.kind</th><td>kamailio</td>" "$run/index.html" && grep -Eq "<th>sut.identity</th><td>kamailio [0-9]" "$run/index.html"'
sel=(smoke/message_both_ways policy/provider_not_allowed "${must_fail[@]}" policy/licences)
sp=(); for s in "${sel[@]}"; do sp+=("$root/scenarios/$s.lua"); done
"$piclab" run -j1 --lab 173 --out "$out/ap" "${sp[@]}" >"$out/ap.log" 2>&1
"$piclab" compare "$out/ap/latest" "$run" --html "$out/sbs.html" >"$out/sbs.log" 2>&1
crc=$?
check "compare accessproxy with kamailio: exit 1 (Kamailio regresses) (got $crc)" '[ "$crc" = 1 ]'
check "side by side: both identities on the terminal" \
	'grep -q "^A: accessproxy (accessproxy [0-9]" "$out/sbs.log" && grep -Eq "^B: kamailio \(kamailio [0-9]" "$out/sbs.log"'
check "side by side: POL-008 (multiparty) passing for accessproxy, failing for Kamailio" \
	'grep -Eq "^POL-008 +A passing +B failing" "$out/sbs.log"'
# POL-004 is mandatory and Kamailio's PICS claims PIC-POLICY: its only scenario (apctl) being n/a
# for the kind leaves it untested, as the report's matrix says; n/a is for what the PICS does not claim
check "side by side: POL-004 (licences, apctl) untested for Kamailio, not n/a" 'grep -Eq "^POL-004 +A passing +B untested" "$out/sbs.log"'
check "side by side: AUD-001 (c:ARCHIVING, which Kamailio's PICS does not claim) n/a for Kamailio" \
	'grep -Eq "^AUD-001 +A untested +B n/a" "$out/sbs.log"'
check "side by side: a requirement both pass is not listed as differing" '! grep -Eq "^TLS-001 " "$out/sbs.log"'
check "side by side page: marks POL-008 as differing, with both verdicts" \
	'grep -q "<tr id=\"req-POL-008\" class=\"differ\">.*<td class=\"passing\">passing</td><td class=\"failing\">failing</td>" "$out/sbs.html"'
check "side by side page: both SUT kinds in its title" 'grep -q "<title>PIClab: accessproxy vs kamailio</title>" "$out/sbs.html"'
[ "$fails" != 0 ] && cat "$out/run.log" "$out/sbs.log"
echo "kamailio_edge.sh: $((n - fails)) passed, $fails failed"
[ "$fails" = 0 ]
