#!/usr/bin/env bash
# Decoder benchmark: SIP messages per second decoded (TCP reassembly + TLS 1.3 decryption) from
# a large lab capture, by piclab's decoder and by tshark on the same file. Prints, never asserts.
set -u
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
piclab="$root/$BUILD/bin/piclab"
out=$(mktemp -d /tmp/piclab-bench-decode.XXXXXX)
trap 'rm -rf "$out"' EXIT
n=${PICLAB_BENCH_MESSAGES:-2500}
echo "== decoder: making a capture of $n MESSAGE transactions each way (lab 245)"
PICLAB_BENCH_MESSAGES=$n timeout 600 "$piclab" run -j1 --lab 245 --out "$out" \
	"$root/scenarios/fixtures/bench_capture.lua" >"$out/run.log" 2>&1 || { cat "$out/run.log"; exit 1; }
dir=$(find "$out" -mindepth 2 -maxdepth 2 -type d -name '*bench_capture' -not -path '*/latest/*' | head -1)
pcap="$dir/capture.pcap" keys="$dir/keys.log"
ls -la "$pcap" | awk '{ printf "capture: %s bytes\n", $5 }'
"$piclab" decode "$pcap" "$keys" --bench 10 | sed 's/^/piclab decoder (10 passes): /'
if command -v tshark >/dev/null; then
	start=$(date +%s.%N)
	count=$(tshark -r "$pcap" -o "tls.keylog_file:$keys" -Y sip -T fields -e sip.CSeq.method \
		-E occurrence=a -E aggregator=, 2>/dev/null | tr ',' '\n' | grep -c .)
	end=$(date +%s.%N)
	awk -v c="$count" -v s="$start" -v e="$end" \
		'BEGIN { printf "tshark (1 pass): %d SIP messages in %.3f s: %.0f messages/s\n", c, e - s, c / (e - s) }'
else
	echo "tshark: not installed, no comparison"
fi
