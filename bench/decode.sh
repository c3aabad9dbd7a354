#!/usr/bin/env bash
# Capture benchmarks (figures printed, never asserted):
# 1. replay: a lab capture of 10,000 MESSAGE transactions replayed through the proxy with
#    `piclab replay --fast` (wall time of the whole command: decode, lab boot, send, judge,
#    report);
# 2. decoder: that capture tiled to PICLAB_BENCH_DECODE_MB megabytes (default 1024; TLS 1.3, one
#    key log) and decoded once by the streaming decoder (`piclab decode --stream`: MB/s,
#    messages/s, peak RSS), next to AES-128-GCM's single-core speed on this box
#    (`openssl speed -evp aes-128-gcm`), the physical limit for TLS captures, and to tshark on
#    the same file when it is installed.
# Knobs: PICLAB_BENCH_MESSAGES (MESSAGEs each way, default 5000: 10,000 transactions),
# PICLAB_BENCH_DECODE_MB, PICLAB_BENCH_LAB (lab index, default 245), PICLAB_BENCH_TSHARK=0 to
# skip tshark (it needs about 2.5 GB of memory per GB of capture).
set -u
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
piclab="$root/$BUILD/bin/piclab"
out=$(mktemp -d /tmp/piclab-bench-decode.XXXXXX)
trap 'rm -rf "$out"' EXIT
n=${PICLAB_BENCH_MESSAGES:-5000}
mb=${PICLAB_BENCH_DECODE_MB:-1024}
lab=${PICLAB_BENCH_LAB:-245}
echo "== capture: $n page-mode MESSAGEs each way through the proxy (lab $lab)"
PICLAB_BENCH_MESSAGES=$n timeout 900 "$piclab" run -j1 --lab $lab --out "$out" \
	"$root/scenarios/fixtures/bench_capture.lua" >"$out/run.log" 2>&1 || { cat "$out/run.log"; exit 1; }
dir=$(find "$out" -mindepth 2 -maxdepth 2 -type d -name '*bench_capture' -not -path '*/latest/*' | head -1)
pcap="$dir/capture.pcap" keys="$dir/keys.log"
ls -la "$pcap" | awk '{ printf "capture: %.1f MB\n", $5 / 1e6 }'

echo "== replay: $((2 * n)) MESSAGE transactions, piclab replay --fast (lab $lab)"
start=$(date +%s.%N)
"$piclab" replay "$dir/capture.pcapng" --fast --lab $lab -o "$out/replay" >"$out/replay.log" 2>&1
rc=$?
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v t="$((2 * n))" -v rc="$rc" -v last="$(tail -1 "$out/replay.log")" \
	'BEGIN { printf "replay: %d transactions in %.2f s (%.0f transactions/s), exit %d: %s\n", t, e - s, t / (e - s), rc, last }'
rm -rf "$out/replay"

echo "== decoder: the capture tiled to $mb MB, streamed once"
python3 "$root/bench/pcaptile.py" "$pcap" "$out/big.pcap" "$mb" || exit 1
"$piclab" decode "$pcap" "$keys" --bench 10 | sed 's/^/piclab decoder, whole capture in memory (10 passes): /'
"$piclab" decode "$out/big.pcap" "$keys" --stream | sed 's/^/piclab decoder, streaming: /'
openssl speed -evp aes-128-gcm -seconds 2 2>/dev/null | awk '/^AES-128-GCM/ {
	printf "AES-128-GCM, one core (openssl speed -evp aes-128-gcm): %.0f MB/s in 1 kB blocks, %.0f MB/s in 16 kB blocks\n", $5 / 1000, $7 / 1000 }'
if [ "${PICLAB_BENCH_TSHARK:-1}" = 0 ]; then
	echo "tshark: skipped (PICLAB_BENCH_TSHARK=0)"
elif command -v tshark >/dev/null; then
	start=$(date +%s.%N)
	count=$(/usr/bin/time -f "%M" -o "$out/tshark.rss" tshark -r "$out/big.pcap" \
		-o "tls.keylog_file:$keys" -Y sip -T fields -e sip.CSeq.method \
		-E occurrence=a -E aggregator=, 2>/dev/null | tr ',' '\n' | grep -c .)
	end=$(date +%s.%N)
	awk -v c="$count" -v s="$start" -v e="$end" -v b="$(stat -c %s "$out/big.pcap")" \
		-v r="$(tail -1 "$out/tshark.rss")" \
		'BEGIN { printf "tshark, same file (1 pass): %d SIP messages in %.2f s: %.1f MB/s, %.0f messages/s; peak RSS %.0f MB\n", c, e - s, b / 1e6 / (e - s), c / (e - s), r / 1024 }'
else
	echo "tshark: not installed, no comparison"
fi
