#!/usr/bin/env bash
# A federated partner in the cast: dns/partner_srv_failover (MSN as a partner, public = no) is
# recorded in lab 186 and replayed in lab 187. With a map casting msn.test as `partner`, the
# cast says so, the replay's proxy is configured with MSN as a partner and finds it by
# _sipfederationtls._tcp SRV (seen in the replay's own capture), and the replay matches. Without
# the map, MSN stays a public provider (no SRV query). `provider msn partner` written by
# --to-lua becomes `public = false` in the scenario, which passes, and stays in the map that
# anonymize writes. A misspelt role is refused.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
piclab="$root/$BUILD/bin/piclab"
out=$(mktemp -d /tmp/piclab-replay-partner.XXXXXX)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0
ok() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; shift; [ $# = 0 ] || tail -n 15 "$@"; failed=$((failed + 1)); }

if ! "$piclab" run -j1 --lab 186 --out "$out/run" "$root/scenarios/dns/partner_srv_failover.lua" \
	>"$out/run.log" 2>&1; then
	fail "dns/partner_srv_failover did not pass" "$out/run.log"
	echo "replay_partner.sh: $passed passed, $failed failed"; exit 1
fi
cap="$out/run/latest/dns.partner_srv_failover/capture.pcapng"
# SRV queries for the partner in a replay's own capture
srv() {
	tshark -r "$1/capture.pcapng" -Y 'dns.flags.response == 0 && dns.qry.type == 33 &&
		dns.qry.name == "_sipfederationtls._tcp.msn.test"' 2>/dev/null | wc -l
}

printf 'domain msn.test partner   # MSN plays a federated partner\n' >"$out/partner.map"
"$piclab" replay "$cap" --map "$out/partner.map" --fast --wait 3 --lab 187 -o "$out/p" \
	>"$out/p.log" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q "^2 passed, 0 failed" "$out/p.log"; then
	ok "replayed with MSN as a partner: $(tail -1 "$out/p.log")"
else
	fail "replay with MSN as a partner: exit $rc" "$out/p.log"
fi
if grep -qE "^  127\.77\.186\.[0-9]+ +partner " "$out/p.log" &&
   grep -q "provider msn allowed, a federated partner" "$out/p.log"; then
	ok "the cast names the partner"
else
	fail "the cast does not name the partner" "$out/p.log"
fi
if awk '/^\[provider msn\]/{m=1; next} /^\[/{m=0} m && /^public = no$/{f=1} END{exit !f}' \
	"$out/p/accessproxy.conf"; then
	ok "the replay's proxy has MSN as a partner (public = no)"
else
	fail "the replay's proxy does not have MSN as a partner" "$out/p/accessproxy.conf"
fi
n=$(srv "$out/p")
if [ "$n" -ge 1 ]; then ok "the proxy found the partner by SRV ($n queries)"
else fail "no SRV query for _sipfederationtls._tcp.msn.test in the replay"; fi

"$piclab" replay "$cap" --fast --wait 3 --lab 187 -o "$out/pub" >"$out/pub.log" 2>&1
rc=$?
n=$(srv "$out/pub")
if [ "$rc" = 0 ] && [ "$n" = 0 ] && ! grep -qE " partner |federated partner" "$out/pub.log"; then
	ok "without the map MSN is a public provider (no SRV query)"
else
	fail "without the map: exit $rc, $n SRV queries" "$out/pub.log"
fi

printf 'provider msn partner\n' >"$out/prov.map"
if "$piclab" replay --to-lua "$cap" --map "$out/prov.map" -o "$out/partner.lua" \
	>"$out/lua.log" 2>&1 && grep -q "msn = { allow = true, public = false }" "$out/partner.lua"; then
	ok "--to-lua writes MSN as public = false"
else
	fail "--to-lua does not write the partner" "$out/lua.log" "$out/partner.lua"
fi
if "$piclab" run -j1 --lab 187 --out "$out/lrun" "$out/partner.lua" >"$out/lrun.log" 2>&1; then
	ok "the generated scenario passes"
else
	fail "the generated scenario fails" "$out/lrun.log"
fi

if "$piclab" anonymize "$cap" --map "$out/prov.map" --key partner -o "$out/anon.pcapng" \
	>"$out/anon.log" 2>&1 && grep -qx "provider msn partner" "$out/anon.map"; then
	ok "anonymize keeps the partner in its map"
else
	fail "anonymize loses the partner" "$out/anon.log" "$out/anon.map"
fi

printf 'domain msn.test partners\n' >"$out/bad.map"
"$piclab" replay "$cap" --map "$out/bad.map" --lab 187 -o "$out/bad" >"$out/bad.log" 2>&1
rc=$?
if [ "$rc" = 2 ] && [ ! -e "$out/bad" ] &&
   grep -q "bad.map:1: role 'partners' does not exist (roles: enterprise, aol, yahoo, msn, partner, proxy)" \
	"$out/bad.log"; then
	ok "a misspelt role is refused with exit 2"
else
	fail "a misspelt role: exit $rc" "$out/bad.log"
fi
echo "replay_partner.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
