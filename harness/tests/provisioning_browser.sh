#!/usr/bin/env bash
# Browser test of the provisioning site: headless Chromium, driven through chromedriver's
# WebDriver HTTP API with curl, fills in and submits the form served by fake-provisioning;
# the first mail (PROV-003) must arrive in the Maildir and routes go to the chosen providers.
# Needs the Debian packages chromium and chromium-driver (make deps); without them it fails.
set -u
BUILD=${BUILD:-build}
root=${PICLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
name=provisioning_browser.sh
bin="$root/$BUILD/bin/fake-provisioning"
ip=127.77.206.2
port=8443
site="https://$ip:$port"

chromium=$(command -v chromium || true)
driver=$(command -v chromedriver || true)
if [ -z "$chromium" ] || [ -z "$driver" ]; then
	echo "FAIL - not installed:${chromium:+}${chromium:- chromium}${driver:+}${driver:- chromedriver}" \
		"(Debian packages chromium, chromium-driver; make deps installs them)"
	echo "$name: 0 passed, 1 failed"
	exit 1
fi
if [ ! -x "$bin" ]; then
	echo "FAIL - $bin is not built"
	echo "$name: 0 passed, 1 failed"
	exit 1
fi

tmp=$(mktemp -d /tmp/piclab-provbrowser.XXXXXX)
site_pid=""
driver_pid=""
sid=""
cleanup() {
	if [ -n "$sid" ] && [ -n "$driver_pid" ]; then
		curl -s --max-time 10 -X DELETE "$wd/session/$sid" >/dev/null 2>&1
	fi
	for p in $driver_pid $site_pid; do
		kill "$p" 2>/dev/null
	done
	for p in $driver_pid $site_pid; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

passed=0
fails=0
check() {
	if eval "$2"; then echo "ok   - $1"; passed=$((passed + 1));
	else echo "FAIL - $1"; fails=$((fails + 1)); fi
}
finish() {
	if [ "$fails" != 0 ]; then
		echo "--- fake-provisioning stdout:"; cat "$tmp/site.out" 2>/dev/null
		echo "--- fake-provisioning stderr:"; tail -20 "$tmp/site.err" 2>/dev/null
		echo "--- chromedriver log (tail):"; tail -20 "$tmp/driver.log" 2>/dev/null
	fi
	echo "$name: $passed passed, $fails failed"
	[ "$fails" = 0 ]
	exit $?
}
# Waits up to $1 tenths of a second for the command in $2 to succeed.
wait_for() {
	local n=$1; shift
	for _ in $(seq 1 "$n"); do
		eval "$1" && return 0
		sleep 0.1
	done
	return 1
}

# ---- the site ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout "$tmp/site.key" -out "$tmp/site.pem" -subj /CN=provisioning.test \
	-addext subjectAltName=DNS:provisioning.test >/dev/null 2>&1
timeout 120 "$bin" --listen "$ip:$port" --cert "$tmp/site.pem" --key "$tmp/site.key" \
	--maildir "$tmp/Maildir" --delay-ms 100 >"$tmp/site.out" 2>"$tmp/site.err" &
site_pid=$!
check "fake-provisioning serves $site/" 'wait_for 50 "grep -qs \"^serving $site/\" \"$tmp/site.out\""'
[ "$fails" = 0 ] || finish

# ---- chromedriver (it listens on localhost only; the port is picked from a free range) ----
for try in $(seq 0 19); do
	dport=$((20000 + (RANDOM % 20000)))
	timeout 120 "$driver" --port="$dport" --log-path="$tmp/driver.log" >/dev/null 2>&1 &
	driver_pid=$!
	wd="http://127.0.0.1:$dport"
	if wait_for 50 'curl -s --max-time 2 "$wd/status" | grep -q "\"ready\": *true"'; then
		break
	fi
	kill "$driver_pid" 2>/dev/null; wait "$driver_pid" 2>/dev/null; driver_pid=""
done
check "chromedriver answers" '[ -n "$driver_pid" ]'
[ "$fails" = 0 ] || finish

# wd METHOD PATH [JSON]: one WebDriver command; prints the response body.
wdc() {
	if [ $# -ge 3 ]; then
		curl -s --max-time 60 -X "$1" -H 'Content-Type: application/json' \
			--data-binary "$3" "$wd$2"
	else
		curl -s --max-time 60 -X "$1" "$wd$2"
	fi
}
ELEM=element-6066-11e4-a52e-4f735466cecf
# find CSS -> element id (empty if none)
find() {
	wdc POST "/session/$sid/element" "{\"using\":\"css selector\",\"value\":\"$1\"}" |
		grep -o "\"$ELEM\":\"[^\"]*\"" | head -1 | cut -d'"' -f4
}
type_in() {
	local e; e=$(find "#$1")
	[ -n "$e" ] && wdc POST "/session/$sid/element/$e/value" "{\"text\":\"$2\"}" >/dev/null
}
click() {
	local e; e=$(find "$1")
	[ -n "$e" ] && wdc POST "/session/$sid/element/$e/click" '{}' >/dev/null
}
# The current page as the browser has it (JSON string quoting removed, good enough for grep).
source_now() {
	wdc GET "/session/$sid/source" | tr -d '\\'
}

caps=$(cat <<JSON
{"capabilities":{"alwaysMatch":{"browserName":"chrome","acceptInsecureCerts":true,
 "goog:chromeOptions":{"binary":"$chromium","args":["--headless","--no-sandbox","--disable-gpu",
 "--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update",
 "--disable-sync","--user-data-dir=$tmp/profile","--ignore-certificate-errors"]}}}}
JSON
)
resp=$(wdc POST /session "$caps")
sid=$(printf '%s' "$resp" | grep -o '"sessionId":"[^"]*"' | head -1 | cut -d'"' -f4)
check "a headless Chromium session starts" '[ -n "$sid" ]'
[ "$fails" = 0 ] || { echo "$resp" | head -c 600; echo; finish; }
wdc POST "/session/$sid/timeouts" '{"pageLoad":30000,"script":10000,"implicit":2000}' >/dev/null

# ---- an empty submission is refused, naming the problems (PROV-002) ----
wdc POST "/session/$sid/url" "{\"url\":\"$site/\"}" >/dev/null
check "the form page loads with its fields" 'source_now | grep -q "id=\"org_name\""'
click "#submit"
src=$(source_now)
check "an empty submission is refused with the list of problems" \
	'printf "%s" "$src" | grep -q "id=\"problems\""'
check "the refusal names the organisation name and the providers" \
	'printf "%s" "$src" | grep -q "data-field=\"org_name\"" &&
	 printf "%s" "$src" | grep -q "data-field=\"providers\""'
check "no mail for a refused submission" '[ -z "$(ls -A "$tmp/Maildir/new" 2>/dev/null)" ]'

# ---- the whole form, filled in as a user would ----
wdc POST "/session/$sid/url" "{\"url\":\"$site/\"}" >/dev/null
ok=1
click "#language option[value=zh]" || ok=0
click "#ack_vl" || ok=0
click "#ack_pic" || ok=0
type_in org_name "Contoso 公司" || ok=0
type_in master_agreement "MA-1234" || ok=0
type_in enrollment "EN-5678" || ok=0
click "#agreement_type option[value=open_value]" || ok=0
type_in primary_domain "contoso.test" || ok=0
type_in admin_email "admin@contoso.test" || ok=0
type_in ap_fqdn "ap.contoso.test" || ok=0
type_in extra_domain_1 "fabrikam.test" || ok=0
type_in extra_email_1 "it@fabrikam.test" || ok=0
type_in contact_last "Smith" || ok=0
type_in contact_first "Ann" || ok=0
type_in contact_email "ann@contoso.test" || ok=0
type_in contact_phone "+1 425 555 0100" || ok=0
click "#provider_aol" || ok=0
click "#provider_yahoo" || ok=0
check "every field could be filled in" '[ "$ok" = 1 ]'
click "#submit"
url=$(wdc GET "/session/$sid/url" | grep -o '"value":"[^"]*"' | cut -d'"' -f4)
check "the submission lands on the status page /request/1 (got $url)" \
	'[ "$url" = "$site/request/1" ]'
check "the first mail arrives in the Maildir (PROV-003)" \
	'wait_for 50 "grep -lq \"^Subject: PIC provisioning request 1 received - being validated\" \"$tmp\"/Maildir/new/* 2>/dev/null"'
check "the request gets provisioned: three mails" \
	'wait_for 80 "[ \$(ls \"$tmp/Maildir/new\" | wc -l) = 3 ]"'
json=$(curl -sk --max-time 10 "$site/request/1.json")
check "the JSON view says provisioned, AOL and Yahoo! configured, MSN none" \
	'printf "%s" "$json" | grep -q "\"state\":\"provisioned\"" &&
	 printf "%s" "$json" | grep -q "\"providers\":{\"aol\":\"configured\",\"yahoo\":\"configured\",\"msn\":\"none\"}"'
check "the organisation name kept its Chinese characters" \
	'printf "%s" "$json" | grep -q "\"organization\":\"Contoso 公司\""'
check "the phone number came through with its spaces and plus" \
	'printf "%s" "$json" | grep -q "\"phone\":\"+1 425 555 0100\""'
check "routes for both domains went to AOL and Yahoo! only (PROV-005, PROV-008)" \
	'[ "$(grep -c "^route add aol " "$tmp/site.out")" = 2 ] &&
	 [ "$(grep -c "^route add yahoo " "$tmp/site.out")" = 2 ] &&
	 ! grep -q "^route add msn " "$tmp/site.out" &&
	 grep -q "^route add yahoo fabrikam.test ap.contoso.test$" "$tmp/site.out"'
finish
