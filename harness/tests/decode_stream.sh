#!/usr/bin/env bash
# The streaming decoder on a real TLS 1.3 lab capture (lab 66): a few MB of MESSAGEs on a handful
# of long-lived mutual-TLS connections decode to the same number of messages as the whole-file
# decoder, every connection decrypted, while no direction holds more than 64 kB.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
out=$(mktemp -d /tmp/piclab-decode-stream.XXXXXX)
trap 'rm -rf "$out"' EXIT
PICLAB_BENCH_MESSAGES=1000 "$piclab" run -j1 --lab 66 --out "$out" \
	"$root/scenarios/fixtures/bench_capture.lua" >"$out/run.log" 2>&1 || {
	echo "FAIL - making the capture:"; tail -20 "$out/run.log"; exit 1; }
dir=$(find "$out" -mindepth 2 -maxdepth 2 -type d -name '*bench_capture' | head -1)
pcap="$dir/capture.pcap" keys="$dir/keys.log"
size=$(stat -c %s "$pcap")
whole=$("$piclab" decode "$pcap" "$keys" | grep -c ' tls ')
line=$("$piclab" decode "$pcap" "$keys" --stream)
echo "$line"
msgs=$(echo "$line" | sed -n 's/.* \([0-9]*\) SIP messages.*/\1/p')
held=$(echo "$line" | sed -n 's/.*at most \([0-9]*\) bytes held.*/\1/p')
tls=$(echo "$line" | sed -n 's/.*flows (\([0-9]*\) TLS, \([0-9]*\) decrypted.*/\1 \2/p')
rc=0
if [ "$size" -gt 2000000 ] && [ "$msgs" = 8000 ] && [ "$whole" = 8000 ]; then
	echo "ok   - $size bytes of TLS capture: $msgs messages streamed, $whole from the whole file"
else
	echo "FAIL - $size bytes: streamed $msgs messages, whole file $whole (want 8000 each)"; rc=1
fi
set -- $tls
if [ "${1:-0}" -gt 0 ] && [ "$1" = "${2:-x}" ]; then
	echo "ok   - all $1 TLS connections decrypted"
else
	echo "FAIL - TLS connections / decrypted: $tls"; rc=1
fi
if [ -n "$held" ] && [ "$held" -le 65536 ]; then
	echo "ok   - at most $held bytes held by one direction (of $size)"
else
	echo "FAIL - one direction held $held bytes (want <= 65536)"; rc=1
fi
exit $rc
