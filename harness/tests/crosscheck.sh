#!/usr/bin/env bash
# Cross-check: the SIP messages the harness's own decoder finds in lab captures (TCP reassembly,
# TLS decryption from the key log) equal what tshark finds in the same files, on every leg.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
if ! command -v tshark >/dev/null; then
	echo "FAIL - crosscheck.sh: tshark is not installed (Debian package tshark; make deps installs it)"
	echo "0 passed, 1 failed"; exit 1
fi
out=$(mktemp -d /tmp/piclab-crosscheck.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$piclab" run -j1 --out "$out" --lab 241 "$root/scenarios/smoke" >"$out/run.log" 2>&1
passed=0 failed=0
for dir in $(find "$out" -mindepth 3 -maxdepth 3 -name capture.pcap -not -path "*/latest/*" -printf "%h\n"); do
	[ -f "$dir/capture.pcap" ] || continue
	name=$(basename "$dir")
	"$piclab" decode "$dir/capture.pcap" "$dir/keys.log" 2>/dev/null |
		awk '{ line = $2 " " $4 " "; for (i = 7; i <= NF; i++) line = line $i (i < NF ? " " : ""); print line }' |
		sort >"$out/ours"
	tshark -r "$dir/capture.pcap" -o "tls.keylog_file:$dir/keys.log" -Y sip -T fields \
		-e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e sip.Request-Line -e sip.Status-Line \
		-E occurrence=a -E aggregator='|' 2>/dev/null |
		awk -F'\t' '{ n = split($5 "|" $6, lines, "|");
		              for (i = 1; i <= n; i++) if (lines[i] != "") print $1 ":" $2 " " $3 ":" $4 " " lines[i] }' |
		sort >"$out/theirs"
	count=$(wc -l <"$out/ours")
	if [ "$count" -gt 0 ] && cmp -s "$out/ours" "$out/theirs"; then
		echo "ok   - $name: $count SIP messages, same as tshark"
		passed=$((passed + 1))
	else
		echo "FAIL - $name: decoder and tshark differ (< ours, > tshark):"
		diff "$out/ours" "$out/theirs" | head -20
		failed=$((failed + 1))
	fi
done
if [ $((passed + failed)) = 0 ]; then
	echo "FAIL - no capture produced"; cat "$out/run.log"; failed=1
fi
echo "crosscheck.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
