#!/usr/bin/env bash
# The replay's judge must say no for each header difference it names: a recording of
# im/session_both_ways (run in lab 186) is made cleartext with `piclab anonymize`, then one
# field of one forwarded request is bent in the recording (Max-Forwards, Record-Route, Via
# transport, the body), so that the recorded proxy did something this proxy does not. Each
# bent recording replayed with --expect recorded must exit 1 naming that difference; with
# --expect policy the same difference is only a note (exit 0). A proxy built without topology
# hiding (build/mutants/NO_TOPO, made by `make tests-build`) must fail on the Via count. A lab
# refusing the INVITEs must not send the requests of the dialogs that therefore do not exist.
# Replays run in lab 187.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
out=$(mktemp -d /tmp/piclab-replay-judge.XXXXXX)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0

if ! "$piclab" run -j1 --lab 186 --out "$out/run" "$root/scenarios/im/session_both_ways.lua" \
	>"$out/run.log" 2>&1; then
	echo "FAIL - im/session_both_ways did not pass:"; tail -20 "$out/run.log"
	echo "replay_judge.sh: 0 passed, 1 failed"; exit 1
fi
cap="$out/run/latest/im.session_both_ways/capture.pcapng"
if ! "$piclab" anonymize "$cap" --key judge -o "$out/clear.pcapng" >"$out/anon.log" 2>&1 ||
   [ ! -s "$out/clear.map" ]; then
	echo "FAIL - anonymize:"; cat "$out/anon.log"
	echo "replay_judge.sh: 0 passed, 1 failed"; exit 1
fi

# bend NAME: writes $out/NAME.pcapng, the cleartext recording with one field of the first
# request the recorded proxy forwarded (Max-Forwards 69) changed, same length.
bend() {
	python3 - "$out/clear.pcapng" "$out/$1.pcapng" "$1" <<'EOF'
import re, sys
src, dst, what = sys.argv[1:4]
d = bytearray(open(src, 'rb').read())
def forwarded(method, need=b''):
    for m in re.finditer(method + rb' sip:[^\r]*\r\n', d):
        end = d.find(b'\r\n\r\n', m.start())
        head = bytes(d[m.start():end])
        if b'\r\nMax-Forwards: 69' in head and need in head:
            return m.start(), end + 4
    sys.exit('no forwarded ' + method.decode() + ' in the recording')
def put(at, old, new):
    assert d[at:at + len(old)] == old and len(old) == len(new)
    d[at:at + len(new)] = new
if what == 'maxfwd':
    s, b = forwarded(b'INVITE')
    put(d.find(b'Max-Forwards: 69', s), b'Max-Forwards: 69', b'Max-Forwards: 42')
elif what == 'rr':
    s, b = forwarded(b'INVITE', b'Record-Route')
    put(d.find(b'\r\nRecord-Route:', s) + 2, b'Record-Route', b'X-Record-Rte')
elif what == 'via':
    s, b = forwarded(b'MESSAGE')
    put(d.find(b'SIP/2.0/TLS', s), b'SIP/2.0/TLS', b'SIP/2.0/TCP')
elif what == 'body':
    s, b = forwarded(b'MESSAGE')
    put(b, d[b:b + 1], b'#' if d[b:b + 1] != b'#' else b'%')
open(dst, 'wb').write(d)
EOF
}

# judge NAME CAPTURE EXPECTED-EXIT "TEXT IN THE LOG" [replay args...]
judge() {
	local name=$1 capf=$2 want=$3 text=$4
	shift 4
	"$piclab" replay "$capf" --map "$out/clear.map" --fast --wait 3 --lab 187 "$@" \
		-o "$out/$name" >"$out/$name.log" 2>&1
	local rc=$?
	if [ "$rc" = "$want" ] && { [ -z "$text" ] || grep -qF -- "$text" "$out/$name.log"; }; then
		echo "ok   - $name: exit $rc${text:+, \"$text\"}"; passed=$((passed + 1))
	else
		echo "FAIL - $name: exit $rc (wanted $want${text:+ and \"$text\"})"
		grep -A1 -E "^(FAIL|piclab)" "$out/$name.log" | head -10
		failed=$((failed + 1))
	fi
}

judge unbent "$out/clear.pcapng" 0 "2 passed, 0 failed"
for b in maxfwd rr via body; do
	if ! bend $b 2>"$out/bend-$b.log"; then
		echo "FAIL - $b: the recording could not be bent:"; cat "$out/bend-$b.log"
		failed=$((failed + 1))
	fi
done
judge maxfwd "$out/maxfwd.pcapng" 1 "Max-Forwards: recorded 42, replayed 69"
judge maxfwd-policy "$out/maxfwd.pcapng" 0 "note: Max-Forwards: recorded 42, replayed 69" \
	--expect policy
judge record-route "$out/rr.pcapng" 1 "Record-Route entries: recorded 0, replayed 1"
judge via-transport "$out/via.pcapng" 1 "Via at the far side: recorded 1 (TCP "
judge body "$out/body.pcapng" 1 "body: recorded 22 bytes, replayed 22 bytes differ"
# A lab refusing AOL answers the INVITEs 403 where the recording had 200: their dialogs do not
# exist, so their ACK, MESSAGEs and BYE are not sent (a note under policy, a failure as
# recorded) and no ACK or BYE crosses the proxy.
{ cat "$out/clear.map"; echo "provider aol deny"; } >"$out/deny.map"
judge deny-recorded "$out/clear.pcapng" 1 "final status to the sender: recorded 200, replayed 403" \
	--map "$out/deny.map"
judge deny-policy "$out/clear.pcapng" 0 \
	"note: not sent: its dialog's INVITE (CSeq 1) was answered 403, recorded 200: no dialog" \
	--map "$out/deny.map" --expect policy
n=$("$piclab" decode "$out/deny-policy/capture.pcapng" "$out/deny-policy/keys.log" 2>/dev/null |
	grep -cE " (ACK|BYE) sip:")
if [ "$n" = 0 ]; then
	echo "ok   - no ACK or BYE of a refused dialog was sent"; passed=$((passed + 1))
else
	echo "FAIL - $n ACK/BYE of refused dialogs crossed the replay"; failed=$((failed + 1))
fi
mutant="$root/$BUILD/mutants/NO_TOPO/bin/accessproxy"
if [ ! -x "$mutant" ]; then
	echo "FAIL - $mutant not built (make tests-build)"; failed=$((failed + 1))
else
	judge no-topo "$out/clear.pcapng" 1 \
		"Via at the far side: recorded 1 (TLS ap.contoso.test), replayed 2" --sut "$mutant"
fi
echo "replay_judge.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
