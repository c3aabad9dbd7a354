#!/usr/bin/env bash
# Bad input to `piclab replay`: a truncated file, an unknown link type, a capture with no SIP,
# TLS connections without keys (each one named), a map naming a role that does not exist, an
# endpoint the cast cannot place. Each must exit 2 with a message that names the problem, and
# write nothing: not the run folder, not anything in the working folder. Lab 47 makes the one
# TLS capture the cases start from.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
out=$(mktemp -d /tmp/piclab-replay-bad.XXXXXX)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0

"$piclab" run -j1 --lab 47 --out "$out/run" "$root/scenarios/smoke/message_both_ways.lua" \
	>"$out/run.log" 2>&1
dir="$out/run/latest/smoke.message_both_ways"
if [ ! -f "$dir/capture.pcap" ]; then
	echo "FAIL - no lab capture to start from"; cat "$out/run.log"; exit 1
fi

# expect NAME WANT-IN-STDERR piclab-replay-args...
expect() {
	local name=$1 want=$2
	shift 2
	mkdir -p "$out/cwd"
	(cd "$out/cwd" && "$piclab" replay "$@" -o "$out/runfolder" >"$out/stdout" 2>"$out/stderr")
	local rc=$?
	if [ "$rc" != 2 ]; then
		echo "FAIL - $name: exit $rc, not 2"; cat "$out/stderr"; failed=$((failed + 1))
	elif ! grep -qF -- "$want" "$out/stderr"; then
		echo "FAIL - $name: message does not say '$want':"; cat "$out/stderr"
		failed=$((failed + 1))
	elif [ -e "$out/runfolder" ] || [ -n "$(ls -A "$out/cwd")" ]; then
		echo "FAIL - $name: wrote files"; ls -la "$out/runfolder" "$out/cwd" 2>/dev/null
		failed=$((failed + 1))
	else
		echo "ok   - $name: $(head -1 "$out/stderr")"
		passed=$((passed + 1))
	fi
	rm -rf "$out/runfolder" "$out/cwd"
}

# 1. a file cut in the middle of a packet
size=$(stat -c %s "$dir/capture.pcap")
head -c $((size * 2 / 3)) "$dir/capture.pcap" >"$out/cut.pcap"
expect "truncated file" "truncated" "$out/cut.pcap" --keys "$dir/keys.log"

# 2. a pcap of link type 105 (IEEE 802.11) with one frame
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x69\x00\x00\x00' >"$out/wifi.pcap"
printf '\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x04\x00\x00\x00abcd' >>"$out/wifi.pcap"
expect "unknown link type" "unknown link type" "$out/wifi.pcap"

# 3. Ethernet/IPv4/UDP 53 carrying no SIP
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$out/nosip.pcap"
printf '\x00\x00\x00\x00\x00\x00\x00\x00\x2a\x00\x00\x00\x2a\x00\x00\x00' >>"$out/nosip.pcap"
printf '\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x02\x08\x00' >>"$out/nosip.pcap"
printf '\x45\x00\x00\x1c\x00\x00\x00\x00\x40\x11\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02' >>"$out/nosip.pcap"
printf '\x30\x39\x00\x35\x00\x08\x00\x00' >>"$out/nosip.pcap"
expect "capture with no SIP" "no SIP messages" "$out/nosip.pcap"

# 4. the lab's TLS capture without its key log: every connection named
expect "TLS without keys" "cannot be decrypted" "$dir/capture.pcap"
"$piclab" replay "$dir/capture.pcap" -o "$out/runfolder" 2>"$out/stderr" >/dev/null
conns=$(grep -c "^  connection [0-9]* .* -> .*: no key for client_random" "$out/stderr")
flows=$("$piclab" decode "$dir/capture.pcap" 2>&1 | grep -c "no key for client_random")
if [ "$conns" -ge 2 ] && [ "$conns" = "$flows" ]; then
	echo "ok   - each undecrypted connection named ($conns)"; passed=$((passed + 1))
else
	echo "FAIL - $conns connections named, the decoder sees $flows undecrypted"
	cat "$out/stderr"; failed=$((failed + 1))
fi
rm -rf "$out/runfolder"

# 5. a map with a role that does not exist
printf '# cast\nendpoint 127.77.47.2 enterprise\nendpoint 127.77.47.10 admin\n' >"$out/bad.map"
expect "map naming a missing role" "bad.map:3: role 'admin' does not exist" \
	"$dir/capture.pcapng" --map "$out/bad.map"

# 6. a map naming an endpoint the capture does not have
printf 'endpoint 192.0.2.1 aol\n' >"$out/ghost.map"
expect "map naming a missing endpoint" "ghost.map:1: endpoint 192.0.2.1 is not in the capture" \
	"$dir/capture.pcapng" --map "$out/ghost.map"

echo "replay_bad_input.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
