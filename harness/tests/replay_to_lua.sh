#!/usr/bin/env bash
# `piclab replay --to-lua`: every scenario under scenarios/replay/ is what the generator writes
# today from its capture in scenarios/fixtures/replay/ (with the .map of the same name), but for
# its covers line; the generated scenarios pass in a lab (60); one generated without its map
# (so its lab allows Yahoo! and MSN) must fail on the recorded 403 (lab 61); bad input writes
# nothing and exits 2.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
fix=scenarios/fixtures/replay
out=$(mktemp -d /tmp/piclab-replay-lua.XXXXXX)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0
ok() { echo "ok   - $1"; passed=$((passed + 1)); }
ko() { echo "FAIL - $1"; failed=$((failed + 1)); }
cd "$root" || exit 2

# 1. the checked-in scenarios are the generator's output
n=0
for cap in "$fix"/*.pcapng; do
	name=$(basename "$cap" .pcapng)
	map=()
	[ -f "$fix/$name.map" ] && map=(--map "$fix/$name.map")
	n=$((n + 1))
	if ! "$piclab" replay --to-lua "$cap" "${map[@]}" -o "$out/$name.lua" >"$out/$name.log" 2>&1; then
		ko "generate $name: $(tail -3 "$out/$name.log")"
		continue
	fi
	if diff <(grep -v '^  covers = ' "$out/$name.lua") \
		<(grep -v '^  covers = ' "scenarios/replay/$name.lua") >"$out/$name.diff"; then
		ok "scenarios/replay/$name.lua is what --to-lua writes from $cap"
	else
		ko "scenarios/replay/$name.lua differs from --to-lua output:"; head -20 "$out/$name.diff"
	fi
done
[ "$n" -ge 5 ] && ok "$n generated scenarios" || ko "only $n captures in $fix (want 5)"

# 2. they pass against the proxy
if "$piclab" run -j1 --lab 60 --out "$out/run" scenarios/replay >"$out/run.log" 2>&1; then
	ok "scenarios/replay: $(tail -1 "$out/run.log")"
else
	ko "scenarios/replay:"; tail -20 "$out/run.log"
fi

# 3. they check the recorded outcomes: without the map's provider rules the refusals are gone
mkdir -p "$out/nomap"
"$piclab" replay --to-lua "$fix/provider_not_allowed.pcapng" -o "$out/nomap/pna.lua" >/dev/null 2>&1
"$piclab" run -j1 --lab 61 --out "$out/run2" "$out/nomap/pna.lua" >"$out/run2.log" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q 'MESSAGE alice -> pat: expected 403, got 200' "$out/run2.log"; then
	ok "a lab allowing Yahoo! fails the generated scenario: MESSAGE alice -> pat: expected 403, got 200"
else
	ko "generated scenario without its map: exit $rc, wanted 1 with 'expected 403, got 200':"
	tail -10 "$out/run2.log"
fi

# 4. bad input: exit 2, a message, no file
mkdir -p "$out/bad"
printf 'not a capture' >"$out/bad/junk.pcap"
"$piclab" replay --to-lua "$out/bad/junk.pcap" -o "$out/bad/x.lua" >"$out/bad/1.log" 2>&1
rc=$?
if [ "$rc" = 2 ] && [ ! -e "$out/bad/x.lua" ] && grep -q 'junk.pcap' "$out/bad/1.log"; then
	ok "not a capture: exit 2, named, nothing written"
else
	ko "not a capture: exit $rc; $(cat "$out/bad/1.log")"; ls "$out/bad"
fi
"$piclab" replay --to-lua "$fix/provider_not_allowed.pcapng" >"$out/bad/2.log" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q -- '-o FILE.lua is required' "$out/bad/2.log"; then
	ok "no -o: exit 2"
else
	ko "no -o: exit $rc; $(cat "$out/bad/2.log")"
fi
if [ "$(ls "$out/bad")" = "$(printf '1.log\n2.log\njunk.pcap')" ]; then
	ok "no stray files"
else
	ko "stray files: $(ls "$out/bad")"
fi

echo "replay_to_lua.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
