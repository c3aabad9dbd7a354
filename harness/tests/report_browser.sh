#!/usr/bin/env bash
# The report in a real browser: a run in lab 153 against a deliberately broken proxy
# (build/mutants/NO_TRUST: no trust header on inbound requests) makes a report; headless Chromium,
# driven through chromedriver's WebDriver API with curl, opens its index, follows requirement
# TRUST-002 to the scenario's page, expands a decoded message, checks the ladder SVG is drawn,
# and follows the failing scenario's evidence link from the index to the offending message.
# Needs chromium and chromium-driver; without them it says skip.
set -u
BUILD=${BUILD:-build}
root=${PICLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
name=report_browser.sh
. "$root/harness/tests/report_lib.bash"
piclab="$root/$BUILD/bin/piclab"
mutant="$root/$BUILD/mutants/NO_TRUST/bin/accessproxy"
chromium=$(command -v chromium || true)
driver=$(command -v chromedriver || true)
if [ -z "$chromium" ] || [ -z "$driver" ]; then
	echo "skip: chromium or chromedriver not installed (Debian packages chromium, chromium-driver)"
	echo "$name: 0 passed, 0 failed (skipped)"
	exit 0
fi
tmp=$(mktemp -d /tmp/piclab-reportbrowser.XXXXXX)
driver_pid=""
sid=""
cleanup() {
	if [ -n "$sid" ] && [ -n "$driver_pid" ]; then
		curl -s --max-time 10 -X DELETE "$wd/session/$sid" >/dev/null 2>&1
	fi
	if [ -n "$driver_pid" ]; then
		kill "$driver_pid" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$driver_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
wait_for() {
	local n=$1; shift
	for _ in $(seq 1 "$n"); do eval "$1" && return 0; sleep 0.1; done
	return 1
}

# ---- a run against the broken proxy ----
"$piclab" run -j1 --lab 153 --out "$tmp/out" --sut "$mutant" "$root/scenarios/smoke/message_both_ways.lua" \
	>"$tmp/run.log" 2>&1
rc=$?
run=$(readlink -f "$tmp/out/latest")
check "the no-trust mutant fails the smoke scenario (exit $rc)" '[ "$rc" = 1 ] && [ -f "$run/index.html" ]'
[ "$fails" = 0 ] || { cat "$tmp/run.log"; finish; }
ev=$(lj "$run/results.json" 'S("smoke/message_both_ways").evidence.index')
fr=$(lj "$run/results.json" 'S("smoke/message_both_ways").evidence.frame')
check "results.json names the evidence: message #$ev, frame $fr" '[ "$ev" -gt 0 ] && [ "$fr" -gt 0 ]'
check "the page's expected-versus-actual view states the trust-header rule and what the capture shows" \
	'grep -q "<th>capture invariant trust-header</th><td>every request the proxy passes inward from outside carries exactly one ms-edge-proxy-message-trust header</td><td>MESSAGE from 127.77.153.3:[0-9]* to 127.77.153.2:5061 passed inward from aol.test carries 0 ms-edge-proxy-message-trust headers, not 1</td>" "$run/pages/smoke.message_both_ways.html"'

# ---- chromedriver ----
for try in $(seq 0 19); do
	dport=$((20000 + (RANDOM % 20000)))
	timeout 300 "$driver" --port="$dport" --log-path="$tmp/driver.log" >/dev/null 2>&1 &
	driver_pid=$!
	wd="http://127.0.0.1:$dport"
	if wait_for 50 'curl -s --max-time 2 "$wd/status" | grep -q "\"ready\": *true"'; then
		break
	fi
	kill "$driver_pid" 2>/dev/null; wait "$driver_pid" 2>/dev/null; driver_pid=""
done
check "chromedriver answers" '[ -n "$driver_pid" ]'
[ "$fails" = 0 ] || finish
wdc() {
	if [ $# -ge 3 ]; then
		curl -s --max-time 60 -X "$1" -H 'Content-Type: application/json' --data-binary "$3" "$wd$2"
	else
		curl -s --max-time 60 -X "$1" "$wd$2"
	fi
}
ELEM=element-6066-11e4-a52e-4f735466cecf
find() {
	wdc POST "/session/$sid/element" "{\"using\":\"css selector\",\"value\":\"$1\"}" |
		grep -o "\"$ELEM\":\"[^\"]*\"" | head -1 | cut -d'"' -f4
}
click() {
	local e; e=$(find "$1")
	[ -n "$e" ] && wdc POST "/session/$sid/element/$e/click" '{}' >/dev/null
}
# js 'return ...': the script's value, JSON-encoded
js() {
	wdc POST "/session/$sid/execute/sync" "{\"script\":\"$1\",\"args\":[]}" |
		sed -n 's/^{"value":\(.*\)}$/\1/p'
}
url_now() { wdc GET "/session/$sid/url" | grep -o '"value":"[^"]*"' | cut -d'"' -f4; }

caps=$(cat <<JSON
{"capabilities":{"alwaysMatch":{"browserName":"chrome",
 "goog:chromeOptions":{"binary":"$chromium","args":["--headless","--no-sandbox","--disable-gpu",
 "--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync",
 "--window-size=1400,900","--user-data-dir=$tmp/profile"]}}}}
JSON
)
resp=$(wdc POST /session "$caps")
sid=$(printf '%s' "$resp" | grep -o '"sessionId":"[^"]*"' | head -1 | cut -d'"' -f4)
check "a headless Chromium session starts" '[ -n "$sid" ]'
[ "$fails" = 0 ] || { echo "$resp" | head -c 600; echo; finish; }
wdc POST "/session/$sid/timeouts" '{"pageLoad":30000,"script":10000,"implicit":2000}' >/dev/null

# ---- the index, then requirement TRUST-002 to its scenario page ----
wdc POST "/session/$sid/url" "{\"url\":\"file://$run/index.html\"}" >/dev/null
check "the index opens with the summary and the PICS statement" \
	'[ "$(js "return document.getElementById(\\\"statement\\\").textContent")" = "\"All mandatory capabilities implemented: yes\"" ]'
click "#req-TRUST-002 a.badge"
check "following TRUST-002 lands on the smoke scenario's page" \
	'url_now | grep -q "/pages/smoke.message_both_ways.html$" &&
	 js "return document.querySelector(\\\"h1\\\").textContent" | grep -q "fail smoke/message_both_ways"'

# ---- a decoded message expands ----
check "decoded message #1 starts folded" '[ "$(js "return document.getElementById(\\\"msg-1\\\").open")" = false ]'
click "#msg-1 > summary"
check "clicking it expands it, showing the SIP text" \
	'[ "$(js "return document.getElementById(\\\"msg-1\\\").open")" = true ] &&
	 js "var p = document.querySelector(\\\"#msg-1 pre\\\"); return p.getBoundingClientRect().height > 20 && /SIP\\\\/2.0/.test(p.textContent)" | grep -q true'

# ---- the ladder is drawn ----
lad=$(js "var s = document.getElementById(\\\"ladder\\\"); var b = s.getBBox(); return [s.querySelectorAll(\\\"line\\\").length, s.querySelectorAll(\\\"a.arrow\\\").length, Math.round(b.width), Math.round(b.height)]")
check "the ladder SVG is drawn: lifelines and one arrow per message ($lad)" \
	'printf "%s" "$lad" | grep -Eq "^\[[0-9]+,[0-9]+,[0-9]+,[0-9]+\]$" &&
	 [ "$(printf "%s" "$lad" | tr -d "[]" | cut -d, -f2)" -ge "$ev" ] &&
	 [ "$(printf "%s" "$lad" | tr -d "[]" | cut -d, -f3)" -gt 300 ] &&
	 [ "$(printf "%s" "$lad" | tr -d "[]" | cut -d, -f4)" -gt 100 ]'

# ---- the failing scenario's evidence link, from the index ----
wdc POST "/session/$sid/url" "{\"url\":\"file://$run/index.html\"}" >/dev/null
click "#scenarios ~ table a.evidence"
check "the index's evidence link lands on message #$ev of the scenario page" \
	'url_now | grep -q "/pages/smoke.message_both_ways.html#msg-$ev$"'
check "that message is open and on screen" \
	'js "var e = document.getElementById(\\\"msg-$ev\\\"); var r = e.getBoundingClientRect(); return e.open && r.top >= 0 && r.top < window.innerHeight" | grep -q true'
txt=$(js "return document.querySelector(\\\"#msg-$ev summary\\\").textContent + \\\"|\\\" + document.querySelector(\\\"#msg-$ev pre\\\").textContent")
check "it is the offending message: frame $fr, a MESSAGE from aol.test passed inward without a trust header" \
	'printf "%s" "$txt" | grep -q "^\"#$ev frame $fr MESSAGE 127.77.153.3:" &&
	 printf "%s" "$txt" | grep -q "From: <sip:bob@aol.test>\|From:.*bob@aol.test" &&
	 ! printf "%s" "$txt" | grep -qi "ms-edge-proxy-message-trust"'
click "#ladder a.arrow.evidence"
check "the ladder highlights the same message: its thick arrow links to #msg-$ev" \
	'url_now | grep -q "#msg-$ev$"'
if [ "$fails" != 0 ]; then tail -20 "$tmp/driver.log"; fi
finish
