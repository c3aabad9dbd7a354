#!/usr/bin/env bash
# apctl against a temporary database and a running accessproxy (127.77.207.x): every
# subcommand's happy path, its refusals with their reasons (CONF-003, CONF-004), exit codes,
# and reloads (apctl, SIGHUP, a broken config keeps the old state).
set -u
BUILD=${BUILD:-build}
root=${PICLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
APCTL="$root/$BUILD/bin/apctl"
PROXY="$root/$BUILD/bin/accessproxy"
t=$(mktemp -d /tmp/apctl-cli.XXXXXX)
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	fi
	rm -rf "$t"
}
trap cleanup EXIT
pass=0
fail=0
out=""
rc=0

# run: apctl ARGS..., output (stdout+stderr) in $out, exit code in $rc
run() { out=$("$APCTL" "$@" 2>&1); rc=$?; }
# expect NAME RC TEXT: the last run exited RC and printed TEXT (a grep -E pattern; "" = any)
expect() {
	if [ "$rc" = "$2" ] && { [ -z "$3" ] || grep -qE -- "$3" <<<"$out"; }; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL - $1: want rc $2 and /$3/, got rc $rc:"
		sed 's/^/    /' <<<"$out"
	fi
}

for n in int ext; do
	cn=ap-$n.contoso.test
	[ $n = ext ] && cn=ap.contoso.test
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$cn" -addext 'extendedKeyUsage=serverAuth,clientAuth' \
		-keyout "$t/$n.key" -out "$t/$n.crt" >/dev/null 2>&1 || { echo "openssl failed"; exit 1; }
done
write_conf() {
	cat >"$t/ap.conf" <<EOF
[global]
log_level = info
control_socket = $t/ctl.sock
dns_server = 127.77.207.9:53
domain = contoso.test
database = $t/state.db
workers = 2
[internal]
listen = 127.77.207.1:25061
fqdn = ap-int.contoso.test
cert = $t/int.crt
key = $t/int.key
ca = $t/int.crt
next_hop = pool.contoso.test
[external]
listen = 127.77.207.2:25061
fqdn = ap.contoso.test
cert = $t/ext.crt
key = $t/ext.key
ca = $t/ext.crt
[provider aol]
fqdn = sip.aol.test
domains = aol.test
allow = yes
EOF
}
write_conf
A=(-c "$t/ap.conf")

# --- help and usage errors ---
run --help; expect "apctl --help lists every command" 0 "apctl usage \[--since"
for c in providers users domains settings licences audit archive usage status reload; do
	run "$c" --help; expect "apctl $c --help" 0 "apctl $c"
done
run; expect "no command is a usage error" 2 "usage: apctl"
run frobnicate; expect "unknown command" 2 "unknown command 'frobnicate'"
run "${A[@]}" providers add; expect "providers add without NAME" 2 "needs a NAME"
run "${A[@]}" providers add x --fqdn sip.x.test; expect "providers add without --domains" 2 "needs --fqdn and --domains"
run "${A[@]}" providers add x --fqdn sip.x.test --domains x.test --filter sloppy; expect "bad --filter" 2 "--filter takes"
run "${A[@]}" audit --direction sideways; expect "bad --direction" 2 "in or out"
run "${A[@]}" audit --since yesterdayish; expect "bad --since" 2 "is not a time"

# --- without a running proxy: the database is created and seeded from the config ---
run "${A[@]}" providers list; expect "default rows exist (CONF-001)" 0 "yahoo +sip.yahoo.test"
expect "seeded aol from the config as allowed" 0 "aol +sip.aol.test +5061 +aol.test +yes +yes"
expect "msn is not allowed" 0 "msn +sip.msn.test +5061 +msn.test +yes +no"
run "${A[@]}" providers add gtalk --fqdn sip.gtalk.test --domains gtalk.test,gmail.test --public no
expect "providers add" 0 "proxy not running: changes apply at its next start"
run "${A[@]}" providers list --json
expect "JSON listing" 0 '"name":"gtalk","fqdn":"sip.gtalk.test","port":5061,"domains":\["gtalk.test","gmail.test"\],"public":false,"allowed":false'
run "${A[@]}" providers add gtalk --fqdn sip.g2.test --domains g2.test; expect "duplicate name" 1 "CONF-003: provider name gtalk is taken"
run "${A[@]}" providers add g2 --fqdn SIP.AOL.TEST --domains g2.test; expect "duplicate FQDN" 1 "CONF-003: edge FQDN SIP.AOL.TEST is already provider aol's"
run "${A[@]}" providers add g2 --fqdn '*.g2.test' --domains g2.test; expect "wildcard FQDN" 1 "is a wildcard"
run "${A[@]}" providers add g2 --fqdn 192.0.2.7 --domains g2.test; expect "IP FQDN" 1 "is an IP address"
run "${A[@]}" providers add g2 --fqdn '' --domains g2.test; expect "empty FQDN" 1 "is empty"
run "${A[@]}" providers add g2 --fqdn sip.g2.test --domains contoso.test; expect "our domain" 1 "contoso.test is one of our domains"
run "${A[@]}" providers add g2 --fqdn sip.g2.test --domains msn.test; expect "another's domain" 1 "msn.test is already served by provider msn"
run "${A[@]}" providers set gtalk --filter allow-all --port 5062; expect "providers set" 0 "set done"
run "${A[@]}" providers set gtalk; expect "providers set without change" 2 "nothing to change"
run "${A[@]}" providers set nosuch --port 1; expect "set unknown provider" 1 "no provider called nosuch"
run "${A[@]}" providers allow msn; expect "providers allow" 0 "allow done"
run "${A[@]}" providers block msn; expect "providers block" 0 "block done"
run "${A[@]}" providers list; expect "blocked shows" 0 "msn +sip.msn.test +5061 +msn.test +yes +yes +yes"
run "${A[@]}" providers unblock msn; expect "providers unblock" 0 "unblock done"
run "${A[@]}" settings set default_route clearing.example.test
expect "CONF-004: route refused while a public provider is allowed" 1 "CONF-004: public provider aol is allowed"
run "${A[@]}" providers disallow aol; expect "disallow aol" 0 "disallow done"
run "${A[@]}" providers disallow msn; expect "disallow msn" 0 "disallow done"
run "${A[@]}" settings set default_route clearing.example.test; expect "default route set" 0 "default_route = clearing.example.test"
run "${A[@]}" providers allow yahoo; expect "CONF-004: allowing a public provider refused" 1 "CONF-004: a default route to a clearing house \(clearing.example.test\) is set, so public provider yahoo cannot be allowed"
run "${A[@]}" providers allow gtalk; expect "a non-public provider may be allowed" 0 "allow done"
run "${A[@]}" settings set default_route ""; expect "default route cleared" 0 "default_route = "
run "${A[@]}" settings set archive sometimes; expect "bad archive value" 1 "not off, on or no-bodies"
run "${A[@]}" settings set nosuch 1; expect "unknown setting" 1 "unknown setting 'nosuch'"
run "${A[@]}" settings set archive no-bodies; expect "settings set" 0 "archive = no-bodies"
run "${A[@]}" settings list --json; expect "settings JSON" 0 '"key":"archive","value":"no-bodies"'
run "${A[@]}" providers remove yahoo; expect "providers remove" 0 "removed"
run "${A[@]}" providers remove yahoo; expect "remove twice" 1 "no provider called yahoo"

run "${A[@]}" domains add fabrikam.test; expect "domains add" 0 "add done"
run "${A[@]}" domains add aol.test; expect "a provider's domain is not ours" 1 "served by provider aol"
run "${A[@]}" domains list; expect "domains list" 0 "fabrikam.test"
run "${A[@]}" domains remove fabrikam.test; expect "domains remove" 0 "remove done"
run "${A[@]}" domains remove fabrikam.test; expect "domains remove unknown" 1 "not one of our domains"

run "${A[@]}" users enable alice@contoso.test bob@contoso.test; expect "users enable" 0 "2 users: enable done"
run "${A[@]}" users enable notanaor; expect "users enable bad AOR" 2 "not an AOR"
run "${A[@]}" users disable bob@contoso.test; expect "users disable" 0 "disable done"
run "${A[@]}" users archive carol@contoso.test; expect "users archive" 0 "archive done"
printf 'aor,enabled,archive\ndave@contoso.test,yes\nerin@contoso.test,maybe\nfrank,yes\n' >"$t/bad.csv"
run "${A[@]}" users import "$t/bad.csv"; expect "CSV with bad lines imports nothing" 1 "nothing imported.*line 3: enabled must be yes or no; line 4: bad aor"
printf 'dave@contoso.test,yes\nerin@contoso.test,no,yes\n' >"$t/good.csv"
run "${A[@]}" users import "$t/good.csv"; expect "CSV import" 0 "2 users imported"
run "${A[@]}" users list --enabled; expect "users list --enabled" 0 "dave@contoso.test"
if grep -q "bob@" <<<"$out"; then fail=$((fail + 1)); echo "FAIL - disabled bob listed as enabled"; else pass=$((pass + 1)); fi
run "${A[@]}" users list --json; expect "users JSON" 0 '"aor":"erin@contoso.test","enabled":false,"archive":true'
run "${A[@]}" licences; expect "licences (POL-004)" 0 "^2 users enabled for PIC: 2 monthly licences$"
run "${A[@]}" licences --json; expect "licences JSON" 0 '"users_enabled":2'

sqlite3_insert() {
	# the audit as the proxy would have written it (rows by time)
	python3 - "$t/state.db" <<'EOF' 2>/dev/null
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = [(1000, 'out', 'aol', 'sip:alice@contoso.test', 'sip:x@aol.test', 'MESSAGE', 'c1', 'forwarded', 200, None),
        (2000, 'in', 'aol', 'sip:x@aol.test', 'sip:alice@contoso.test', 'MESSAGE', 'c2', 'refused', 403, 'provider not allowed'),
        (3000, 'in', 'gtalk', 'sip:y@gtalk.test', 'sip:dave@contoso.test', 'MESSAGE', 'c3', 'forwarded', 200, None)]
db.executemany("INSERT INTO audit (time, direction, provider, from_aor, to_aor, method, call_id, decision, status, reason) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
# c1 archived with its body (two lines), c3 archived without (archive = no-bodies)
db.execute("INSERT INTO archive (audit_id, content_type, body_len, body) SELECT id, 'text/plain', 9, ? FROM audit WHERE call_id = 'c1'", (b"hi\tthere\n",))
db.execute("INSERT INTO archive (audit_id, content_type, body_len, body) SELECT id, 'text/plain', 42, NULL FROM audit WHERE call_id = 'c3'")
db.commit()
EOF
}
if sqlite3_insert; then
	run "${A[@]}" audit; expect "audit lists records" 0 "provider not allowed"
	run "${A[@]}" audit --provider gtalk --json; expect "audit --provider" 0 '"call_id":"c3"'
	run "${A[@]}" audit --decision refused --direction in --until 2500 --since 1500
	expect "audit filters" 0 "c2"
	run "${A[@]}" audit --user sip:alice@contoso.test --limit 1; expect "audit --user --limit" 0 "c2"
	run "${A[@]}" usage --until 2500; expect "usage per user" 0 "user +alice@contoso.test +1 +1 +1"
	run "${A[@]}" usage --json; expect "usage per provider" 0 '"kind":"provider","name":"gtalk","messages_in":1,"messages_out":0'
	# AUD-002: the archive read back: only archived records, the body escaped in the table
	run "${A[@]}" archive list; expect "archive list shows the kept body, escaped" 0 'c1 +text/plain +9 +yes +hi\\tthere\\n$'
	expect "archive list shows a record archived without body" 0 'c3 +text/plain +42 +no +-$'
	if grep -q " c2 " <<<"$out"; then fail=$((fail + 1)); echo "FAIL - unarchived c2 in archive list"; else pass=$((pass + 1)); fi
	run "${A[@]}" archive list --user alice@contoso.test --json
	expect "archive list --user --json" 0 '"call_id":"c1","content_type":"text/plain","length":9,"body_kept":true,"body":"hi\\tthere\\n"'
	if grep -q '"c3"' <<<"$out"; then fail=$((fail + 1)); echo "FAIL - dave's c3 listed for --user alice"; else pass=$((pass + 1)); fi
	run "${A[@]}" archive list --user nobody@contoso.test; expect "archive list of a user without archive" 0 "^\(none\)$"
	id=$("$APCTL" "${A[@]}" archive list --json | grep -o '"id":[0-9]*,"time":"[^"]*","direction":"out"' | grep -o '[0-9]*' | head -1)
	run "${A[@]}" archive show "$id"; expect "archive show: the record" 0 "^call_id: c1$"
	if printf '%s\n' "$out" | grep -qP '^hi\tthere$'; then
		pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL - archive show body as stored: $out"; fi
	run "${A[@]}" archive show "$id" --json; expect "archive show --json" 0 '^\{"id":[0-9]+,.*"body":"hi\\tthere\\n"\}$'
	run "${A[@]}" archive show 999999; expect "archive show of no such record" 1 "record 999999 has no archived message"
	run "${A[@]}" archive show x1; expect "archive show bad id" 2 "'x1' is not a record id"
	run "${A[@]}" archive frob; expect "archive bad subcommand" 2 "archive takes list or show"
	run "${A[@]}" archive list --since never; expect "archive list bad --since" 2 "is not a time"
else
	fail=$((fail + 1))
	echo "FAIL - audit/usage rows cannot be seeded: python3 with its sqlite3 module is missing" \
		"(Debian package python3; make deps installs it)"
fi

# --- with a running proxy: apctl changes reload it ---
run "${A[@]}" status; expect "status without a proxy" 1 "proxy not running"
"$PROXY" -c "$t/ap.conf" >"$t/proxy.log" 2>&1 &
pid=$!
# two workers: a reload has to reach both (the second listens on ctl.sock.1)
for _ in $(seq 100); do
	"$APCTL" "${A[@]}" ready >/dev/null 2>&1 && "$APCTL" -s "$t/ctl.sock.1" ready >/dev/null 2>&1 && break
	sleep 0.1
done
run "${A[@]}" ready; expect "proxy ready" 0 "^ok$"
run "${A[@]}" status; expect "status" 0 '"state_version":1'
run "${A[@]}" users enable grace@contoso.test; expect "change reloads the proxy" 0 "proxy reloaded: ok version 2: .* 3 users enabled"
run "${A[@]}" reload; expect "apctl reload" 0 "^ok version 3"
kill -HUP "$pid"
for _ in $(seq 100); do [ "$(grep -c "SIGHUP: ok version 4" "$t/proxy.log")" = 2 ] && break; sleep 0.1; done
if [ "$(grep -c "SIGHUP: ok version 4" "$t/proxy.log")" = 2 ]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1)); echo "FAIL - SIGHUP reload; proxy log:"; sed 's/^/    /' "$t/proxy.log"
fi
cp "$t/ext.key" "$t/ext.key.good"
echo "garbage" >"$t/ext.key"
run -s "$t/ctl.sock" reload; expect "broken key: reload refused, old state kept" 1 "error reload refused, old state kept: .*\[external\] key file"
cp "$t/ext.key.good" "$t/ext.key"
echo "bogus_key = 1" >>"$t/ap.conf"
run -s "$t/ctl.sock" reload; expect "broken config: reload refused" 1 "error reload refused.*bogus_key"
write_conf
run "${A[@]}" status; expect "still version 4 after refusals" 0 '"state_version":4'
run "${A[@]}" reload; expect "good again" 0 "^ok version 5"
run -s "$t/ctl.sock.1" status; expect "worker 1 reloaded as often" 0 '"state_version":5'
run -s "$t/ctl.sock.1" status; expect "status shows the audit writer" 0 "\"audit\":\\{\"queued\":"

if kill -0 "$pid" 2>/dev/null; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL - proxy died"; fi

# accessproxy -t warns where the config and the database differ (the database is authoritative)
out=$("$PROXY" -t -c "$t/ap.conf" 2>&1); rc=$?
expect "accessproxy -t warns about aol" 0 "warning: .*provider aol is not allowed in the database"

sed "s|^database = .*|database = $t/no/such/dir/state.db|" "$t/ap.conf" >"$t/bad.conf"
out=$("$PROXY" -t -c "$t/bad.conf" 2>&1); rc=$?
expect "accessproxy -t refuses a database that cannot be created" 1 "cannot be created"

echo "apctl_cli.sh: $pass passed, $fail failed"
[ "$fail" = 0 ]
