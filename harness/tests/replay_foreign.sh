#!/usr/bin/env bash
# Captures made by systems that are not ours, replayed with a map file and --expect policy:
# JsSIP over WebSocket, an iPhone's VoLTE SIP inside GTP-U, a Zoiper PUBLISH over UDP (the
# public captures of ../shared/corpora/pcaps, skipped when absent), and SIP over TLS between
# openssl s_client and s_server captured by dumpcap with their own key logs (made here, in
# 127.77.48.0/24). Each replay must exit 0 and show the outcomes asserted below, one line per
# transaction. Replays run in lab 49.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
maps="$root/harness/tests/replay"
corpora=${PICLAB_CORPORA:-$root/../shared/corpora}
out=$(mktemp -d /tmp/piclab-replay-foreign.XXXXXX)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0

# check NAME CAPTURE MAP "EXPECTED OUTCOME LINES" [replay args...]
check() {
	local name=$1 cap=$2 map=$3 want=$4
	shift 4
	"$piclab" replay "$cap" --map "$map" --expect policy --fast --wait 3 --lab 49 "$@" \
		-o "$out/$name" >"$out/$name.log" 2>&1
	local rc=$?
	local got
	got=$(lua5.4 "$maps/outcomes.lua" "$out/$name" 2>&1)
	if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
		echo "ok   - $name: $(tail -1 "$out/$name.log")"
		passed=$((passed + 1))
	else
		echo "FAIL - $name: exit $rc; outcomes (got, then wanted):"
		echo "$got"; echo "--"; echo "$want"; tail -20 "$out/$name.log"
		failed=$((failed + 1))
	fi
}

if [ -d "$corpora/pcaps" ]; then
	# REGISTER is not federation traffic, audio INVITE is refused (488), the MESSAGE passes;
	# the refused INVITE's dialog does not exist, so its ACK and BYE are not sent
	check websocket-sip "$corpora/pcaps/websocket-sip.pcapng" "$maps/websocket-sip.map" \
"REGISTER reached=no final=404 pass
MESSAGE reached=yes final=200 pass
INVITE reached=no final=488 pass
ACK reached=no final=0 pass
BYE reached=no final=0 pass"
	# tel: URIs are refused with 416 (RFC 3261 8.2.2.1) before anything crosses
	check gtp-iphone "$corpora/pcaps/gtp-iphone.pcap" "$maps/gtp-iphone.map" \
"$(cat "$maps/gtp-iphone.outcomes")"
	check sip_not_sdp "$corpora/pcaps/sip_not_sdp.pcap" "$maps/sip_not_sdp.map" \
"PUBLISH reached=no final=404 pass"
else
	echo "skip - $corpora/pcaps not found: public captures not replayed"
fi

# SIP over TLS between two programs that are not ours, with their key logs
mkdir -p "$out/ossl"
if bash "$maps/openssl-sip.sh" "$out/ossl" 127.77.48 >"$out/ossl.log" 2>&1 &&
   [ -s "$out/ossl/capture.pcapng" ]; then
	check openssl-tls "$out/ossl/capture.pcapng" "$maps/openssl-sip.map" \
		"MESSAGE reached=yes final=200 pass" --keys "$out/ossl/keys.log"
else
	echo "FAIL - openssl s_client/s_server capture not made:"; cat "$out/ossl.log"
	failed=$((failed + 1))
fi

echo "replay_foreign.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
