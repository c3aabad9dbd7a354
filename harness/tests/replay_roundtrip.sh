#!/usr/bin/env bash
# Round trip: scenarios covering IM, sessions, presence, contacts, refusals and DNS failover run
# in the lab; each one's capture is then replayed (`piclab replay --expect recorded --fast`)
# against a fresh proxy, and every replay must match its recording transaction by transaction.
# Labs 44-45 run the scenarios, lab 46 the replays. A map file of the same name in
# harness/tests/replay/ gives a scenario's lab settings (providers denied or blocked).
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
scenarios="smoke/message_both_ways im/session_both_ways im/offline_answers im/order_once
  im/unverified_im_refused im/size_limit presence/state_mapping presence/enterprise_to_watchers
  presence/notify_before_200 presence/blocked_sees_offline contacts/add_remove_aol
  contacts/public_adds_enterprise contacts/unknown_contact_offline policy/im_and_presence_only
  policy/multiparty_refused policy/user_not_enabled policy/provider_not_allowed
  policy/inbound_domains sip/max_forwards sip/via_path sip/loop_482 sip/cancel_follows
  sip/proxy_require topology/record_route dns/partner_srv_failover"
out=$(mktemp -d /tmp/piclab-replay-rt.XXXXXX)
trap 'rm -rf "$out"' EXIT
files=""
for s in $scenarios; do files="$files $root/scenarios/$s.lua"; done
if ! "$piclab" run -j2 --lab 44 --out "$out/run" $files >"$out/run.log" 2>&1; then
	echo "FAIL - the scenarios themselves did not all pass:"; grep -v '^pass' "$out/run.log" | head -30
	echo "replay_roundtrip.sh: 0 passed, 1 failed"; exit 1
fi
passed=0 failed=0
for s in $scenarios; do
	name=$(echo "$s" | tr / .)
	cap="$out/run/latest/$name/capture.pcapng"
	map="$root/harness/tests/replay/$(basename "$s").map"
	args=""
	[ -f "$map" ] && args="--map $map"
	if [ ! -f "$cap" ]; then
		echo "FAIL - $s: no capture"; failed=$((failed + 1)); continue
	fi
	"$piclab" replay "$cap" --fast --wait 5 --lab 46 $args -o "$out/replay-$name" \
		>"$out/replay-$name.log" 2>&1
	rc=$?
	groups=$(tail -1 "$out/replay-$name.log")
	if [ "$rc" = 0 ] && [ -f "$out/replay-$name/junit.xml" ] && grep -q "^[1-9][0-9]* passed, 0 failed" <<<"$groups"; then
		echo "ok   - $s: $groups"
		passed=$((passed + 1))
	else
		echo "FAIL - $s: exit $rc"; grep -A1 -E "^(FAIL|piclab)" "$out/replay-$name.log" | head -12
		failed=$((failed + 1))
	fi
done
# The judge must also say no: the same capture against a lab that refuses AOL, and against a
# proxy built without trust marking (build/mutants/NO_TRUST, made by `make tests-build`), must
# not match.
cap="$out/run/latest/smoke.message_both_ways/capture.pcapng"
printf 'provider aol deny\n' >"$out/deny.map"
"$piclab" replay "$cap" --fast --wait 2 --lab 46 --map "$out/deny.map" -o "$out/neg1" >"$out/neg1.log" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "final status to the sender: recorded 200, replayed 403" "$out/neg1.log"; then
	echo "ok   - a lab refusing AOL does not match the recording"; passed=$((passed + 1))
else
	echo "FAIL - a lab refusing AOL: exit $rc"; tail -8 "$out/neg1.log"; failed=$((failed + 1))
fi
mutant="$root/$BUILD/mutants/NO_TRUST/bin/accessproxy"
if [ ! -x "$mutant" ]; then
	echo "FAIL - $mutant not built (make tests-build)"; failed=$((failed + 1))
else
	"$piclab" replay "$cap" --fast --wait 2 --lab 46 --sut "$mutant" -o "$out/neg2" >"$out/neg2.log" 2>&1
	rc=$?
	if [ "$rc" = 1 ] && grep -q "trust header: recorded 1, replayed 0" "$out/neg2.log"; then
		echo "ok   - a proxy without trust marking does not match"; passed=$((passed + 1))
	else
		echo "FAIL - mutant NO_TRUST: exit $rc"; tail -8 "$out/neg2.log"; failed=$((failed + 1))
	fi
fi
echo "replay_roundtrip.sh: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -ge 20 ]
