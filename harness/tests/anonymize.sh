#!/usr/bin/env bash
# `piclab anonymize`: no identifier of the original capture survives in the output's bytes (users,
# hosts, domains, addresses, Call-IDs, tags, branches, display names, message text: read from
# the original with tshark, plus the lab's names); the same key gives the same bytes and another
# key other bytes; the output is cleartext and decodes to as many messages; the anonymized lab
# captures replay with the map it writes and match (--expect recorded, lab 63), the public
# WebSocket and GTP-U captures keep their policy outcomes (and tshark finds nothing malformed);
# a TLS capture without its secrets is refused.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
fix="$root/scenarios/fixtures/replay"
maps="$root/harness/tests/replay"
corpora=${PICLAB_CORPORA:-$root/../shared/corpora}
out=$(mktemp -d /tmp/piclab-anon.XXXXXX)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0
ok() { echo "ok   - $1"; passed=$((passed + 1)); }
ko() { echo "FAIL - $1"; failed=$((failed + 1)); }
if ! command -v tshark >/dev/null; then
	echo "skip - tshark is not installed: no independent reading of the identifiers"
	exit 0
fi

# The identifiers of a capture, one a line, as tshark reads them (TLS opened with the DSB).
identifiers() {
	tshark -r "$1" -Y sip -T fields -E separator=/t -e sip.from.user -e sip.from.host \
		-e sip.to.user -e sip.to.host -e sip.r-uri.user -e sip.r-uri.host \
		-e sip.contact.user -e sip.contact.host -e sip.Call-ID -e sip.from.tag \
		-e sip.to.tag -e sip.Via.branch -e sip.Via.sent-by.address -e sip.display.info \
		-e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e data-text-lines 2>/dev/null |
		tr ',\t' '\n\n' | sed 's/^"//; s/"$//; s/\\r\\n$//' | awk 'length($0) >= 3' | sort -u
}

# check NAME CAPTURE [anonymize args...]: anonymize, search, decode
check() {
	local name=$1 cap=$2
	shift 2
	local a="$out/$name.pcapng"
	if ! "$piclab" anonymize "$cap" "$@" --key "first secret" -o "$a" >"$out/$name.log" 2>&1; then
		ko "$name: anonymize failed: $(cat "$out/$name.log")"
		return 1
	fi
	identifiers "$cap" >"$out/$name.ids"
	local n left
	n=$(wc -l <"$out/$name.ids")
	printf '%s\n' alice bob carol contoso aol.test yahoo.test msn.test 127.77. jssip \
		>>"$out/$name.ids"
	left=$(grep -a -i -o -F -f "$out/$name.ids" "$a" | sort -u | head -5)
	if [ "$n" -gt 0 ] && [ -z "$left" ]; then
		ok "$name: none of the $n identifiers tshark reads in the original in the output's bytes"
	else
		ko "$name: identifiers left in the output (of $n): $left"
	fi
	"$piclab" anonymize "$cap" "$@" --key "first secret" -o "$out/$name.again.pcapng" >/dev/null 2>&1
	"$piclab" anonymize "$cap" "$@" --key "other secret" -o "$out/$name.other.pcapng" >/dev/null 2>&1
	if cmp -s "$a" "$out/$name.again.pcapng" && ! cmp -s "$a" "$out/$name.other.pcapng"; then
		ok "$name: same key, same bytes; another key, other bytes"
	else
		ko "$name: output not keyed and deterministic"
	fi
	local m0 m1
	m0=$("$piclab" decode "$cap" 2>/dev/null | grep -c .)
	m1=$("$piclab" decode "$a" 2>/dev/null | grep -c ' clear \| udp ')
	if [ "$m0" -gt 0 ] && [ "$m0" = "$m1" ]; then
		ok "$name: $m1 messages, all cleartext (TCP or UDP), as many as the original"
	else
		ko "$name: the original decodes to $m0 messages, the output to $m1 cleartext ones"
	fi
}

# replay NAME [replay args...]: the anonymized capture replays with the map it got
replay() {
	local name=$1
	shift
	"$piclab" replay "$out/$name.pcapng" --map "$out/$name.map" --fast --wait 3 --lab 63 \
		-o "$out/rp-$name" "$@" >"$out/rp-$name.log" 2>&1
	echo $?
}

for name in message_both_ways session_both_ways unverified_im_refused; do
	check "$name" "$fix/$name.pcapng" || continue
	rc=$(replay "$name")
	if [ "$rc" = 0 ]; then
		ok "$name: anonymized, replays and matches: $(tail -1 "$out/rp-$name.log")"
	else
		ko "$name: anonymized replay exit $rc:"; tail -8 "$out/rp-$name.log"
	fi
done

if [ -d "$corpora/pcaps" ]; then
	name=websocket-sip
	if check "$name" "$corpora/pcaps/$name.pcapng" --map "$maps/$name.map"; then
		grep -q 'not anonymized: header X-Can-Renegotiate' "$out/$name.log" &&
			ok "$name: says what it could not anonymize (X-Can-Renegotiate)" ||
			ko "$name: report: $(cat "$out/$name.log")"
		rc=$(replay "$name" --expect policy)
		got=$(lua5.4 "$maps/outcomes.lua" "$out/rp-$name" 2>&1 | tr '\n' ';')
		want="REGISTER reached=no final=404 pass;MESSAGE reached=yes final=200 pass;INVITE reached=no final=488 pass;ACK reached=no final=0 pass;BYE reached=no final=0 pass;"
		[ "$rc" = 0 ] && [ "$got" = "$want" ] &&
			ok "$name: anonymized, the same policy outcomes as the original" ||
			ko "$name: exit $rc, outcomes $got"
	fi
	check sip_not_sdp "$corpora/pcaps/sip_not_sdp.pcap"
	# IPv6 in GTP-U, tel: URIs, credentials and network headers, a binary SMS body
	name=gtp-iphone
	if check "$name" "$corpora/pcaps/$name.pcap" --map "$maps/$name.map"; then
		grep -q 'not anonymized: application/vnd.3gpp.sms bodies (2)' "$out/$name.log" &&
			ok "$name: says the SMS bodies are not anonymized" ||
			ko "$name: report: $(cat "$out/$name.log")"
		bad=$(tshark -r "$out/$name.pcapng" -Y '_ws.malformed || _ws.expert.severity >= 8388608' \
			2>/dev/null | grep -c .)
		[ "$bad" = 0 ] && ok "$name: tshark finds nothing malformed in the output" ||
			ko "$name: tshark finds $bad malformed packets"
		rc=$(replay "$name" --expect policy)
		got=$(lua5.4 "$maps/outcomes.lua" "$out/rp-$name" 2>&1)
		[ "$rc" = 0 ] && [ "$got" = "$(cat "$maps/$name.outcomes")" ] &&
			ok "$name: anonymized, the same policy outcomes as the original" ||
			ko "$name: exit $rc, outcomes $got"
	fi
else
	echo "skip - $corpora/pcaps not found: public captures not anonymized"
fi

# TLS without its secrets: named, nothing written
if command -v editcap >/dev/null; then
	editcap --discard-all-secrets "$fix/message_both_ways.pcapng" "$out/nokeys.pcapng" 2>/dev/null
	"$piclab" anonymize "$out/nokeys.pcapng" --key k -o "$out/nokeys-anon.pcapng" \
		>"$out/nokeys.log" 2>&1
	rc=$?
	if [ "$rc" = 2 ] && grep -q 'not decrypted' "$out/nokeys.log" &&
	   grep -q 'no SIP messages to anonymize' "$out/nokeys.log" &&
	   [ ! -e "$out/nokeys-anon.pcapng" ]; then
		ok "TLS without secrets: each connection named, exit 2, nothing written"
	else
		ko "TLS without secrets: exit $rc: $(cat "$out/nokeys.log")"
	fi
fi
"$piclab" anonymize "$fix/message_both_ways.pcapng" -o "$out/nokey.pcapng" >"$out/nokey.log" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q 'a secret is required' "$out/nokey.log" && [ ! -e "$out/nokey.pcapng" ] &&
	ok "no --key: exit 2" || ko "no --key: exit $rc: $(cat "$out/nokey.log")"

echo "anonymize.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
