#!/usr/bin/env bash
# The replay keeps the recorded timing: a scenario sends two MESSAGEs about 1 s apart (recorded
# in lab 186); replayed in lab 187 with the default timing, the replay's own capture shows them
# at least as far apart as recorded, and with --speed 0.5 at least twice as far. Only lower
# bounds are asserted: a slow machine makes gaps longer, never shorter.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
out=$(mktemp -d /tmp/piclab-replay-timing.XXXXXX)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0

cat >"$out/two_messages.lua" <<'EOF'
return scenario {
  title = "two MESSAGEs a second apart",
  covers = {},
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    expect_eq(alice:send_message(bob, "first"), 200, "first MESSAGE")
    bob:expect_message{ from = alice, contains = "first" }
    lab:sleep(1.0)
    expect_eq(alice:send_message(bob, "second"), 200, "second MESSAGE")
    bob:expect_message{ from = alice, contains = "second" }
  end,
}
EOF
if ! "$piclab" run -j1 --lab 186 --out "$out/run" "$out/two_messages.lua" >"$out/run.log" 2>&1; then
	echo "FAIL - the recording scenario did not pass:"; tail -20 "$out/run.log"
	echo "replay_timing.sh: 0 passed, 1 failed"; exit 1
fi
rec=$(dirname "$(ls "$out"/run/latest/*/capture.pcapng | head -1)")

# gap DIR: seconds between the first and the last MESSAGE request in DIR's capture
gap() {
	"$piclab" decode "$1/capture.pcapng" "$1/keys.log" 2>/dev/null |
		awk '/ MESSAGE sip:/ { if (!f) f = $1; l = $1 } END { printf "%.3f\n", (f ? l - f : -1) }'
}
g_rec=$(gap "$rec")
if awk -v g="$g_rec" 'BEGIN { exit !(g >= 0.9) }'; then
	echo "ok   - recorded gap between the MESSAGEs: $g_rec s"; passed=$((passed + 1))
else
	echo "FAIL - recorded gap $g_rec s (wanted >= 0.9)"; failed=$((failed + 1))
fi

# timed NAME FACTOR [replay args]: the replay matches, its gap >= FACTOR x the recorded one
timed() {
	local name=$1 factor=$2
	shift 2
	"$piclab" replay "$rec/capture.pcapng" --wait 3 --lab 187 "$@" -o "$out/$name" \
		>"$out/$name.log" 2>&1
	local rc=$? g
	g=$(gap "$out/$name")
	if [ "$rc" = 0 ] && awk -v g="$g" -v r="$g_rec" -v f="$factor" \
		'BEGIN { exit !(g >= 0.95 * f * r) }'; then
		echo "ok   - $name: exit 0, replayed gap $g s >= $factor x $g_rec s"
		passed=$((passed + 1))
	else
		echo "FAIL - $name: exit $rc, replayed gap $g s (wanted >= $factor x $g_rec s)"
		grep -A1 -E "^(FAIL|piclab)" "$out/$name.log" | head -6
		failed=$((failed + 1))
	fi
}
timed recorded-timing 1
timed speed-half 2 --speed 0.5
echo "replay_timing.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
