#!/bin/bash
# A checkout under a 150-character path: the lab's unix sockets must not live under it (a socket
# path holds at most 107 bytes). Clones the repository there, builds it (reusing the objects of
# this build, made newer than the clone's sources), and runs from the clone the scenarios that
# use every socket: the proxy's control socket through apctl (users import at boot, lab:apctl),
# sut:ctl, restarts and a crash. Also: the runtime folder is removed at exit, and accessproxy -t
# still refuses a user's own control_socket that is too long, with its clear message.
set -u
root=${PICLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
fails=0
lab=${PICLAB_TEST_LAB:-20}   # the lab index (127.77.N.0/24)
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

base=$(mktemp -d /tmp/piclab-longpath.XXXXXX)
trap 'rm -rf "$base"' EXIT
clone=$base
while [ ${#clone} -lt 150 ]; do
	left=$((150 - ${#clone} - 1))
	[ $left -gt 60 ] && n=50 || n=$left
	clone=$clone/$(printf '%*s' $n '' | tr ' ' 'p')
done
check "the clone's path has 150 characters (${#clone})" '[ ${#clone} -eq 150 ]'
mkdir -p "$(dirname "$clone")"
git clone -q "$root" "$clone" || { echo "FAIL git clone $root $clone"; exit 1; }
san=0
[ "${BUILD##*/}" = san ] && san=1
mkdir -p "$clone/$BUILD"
cp -a "$root/$BUILD/obj" "$root/$BUILD/bin" "$root/$BUILD"/*.a "$clone/$BUILD/"
# the copied objects are newer than the fresh sources: make links only what is missing
find "$clone/$BUILD" -exec touch {} +
make -C "$clone" -j2 SANITIZE=$san all >"$base/make.log" 2>&1
check "make all in the clone" '[ $? -eq 0 ] || { cat "$base/make.log"; false; }'

piclab=$clone/$BUILD/bin/piclab
out=$clone/reports/out
log=$base/run.log
rtbase=${PICLAB_RUNTIME:-/run/piclab}
# no PICLAB_ROOT: piclab finds its root from where its binary is, the clone
env -u PICLAB_ROOT "$piclab" run -j1 --lab $lab \
	"$clone/scenarios/smoke/message_both_ways.lua" \
	"$clone/scenarios/conf/providers_table.lua" \
	"$clone/scenarios/policy/pic_switch.lua" \
	"$clone/scenarios/tls/reload.lua" \
	"$clone/scenarios/robustness/crash_restart.lua" \
	"$clone/scenarios/contacts/survive_restart.lua" >"$log" 2>&1
rc=$?
pid=$(sed -n 's/.*results in .*-\([0-9]*\)$/\1/p' "$log" | head -1)
check "piclab run from the long path passes (exit $rc)" '[ $rc -eq 0 ] || { cat "$log"; false; }'
check "6 passed, 0 failed" 'grep -q "^6 passed, 0 failed$" "$log"'
check "results went under the long path" '[ -f "$out/latest/results.json" ]'
conf=$(ls "$out"/latest/smoke.message_both_ways/accessproxy.conf 2>/dev/null)
sock=$(sed -n 's/^control_socket = //p' "$conf" 2>/dev/null)
check "the control socket is in the runtime folder ($sock)" \
	'[ -n "$sock" ] && [ ${#sock} -le 107 ] && [ "${sock#$rtbase/}" != "$sock" ]'
check "the runtime folder of run $pid is gone after it" '[ -n "$pid" ] && [ ! -e "$rtbase/$pid" ]'

# the Kamailio adapter from the long path (Kamailio refuses included file names over 128 bytes)
if [ -x /usr/sbin/kamailio ]; then
	env -u PICLAB_ROOT "$piclab" run -j1 --lab $lab --sut-kind kamailio -o "$base/kam" \
		"$clone/scenarios/smoke/message_both_ways.lua" >"$base/kam.log" 2>&1
	check "the kamailio SUT kind runs from the long path (exit $?)" \
		'grep -q "^1 passed, 0 failed" "$base/kam.log" || { cat "$base/kam.log"; false; }'
else
	check "kamailio is installed ('make deps' installs kamailio kamailio-tls-modules)" false
fi

# a user's own control_socket under the long path: the configuration check says what is wrong
sed "s|^control_socket = .*|control_socket = $clone/ctl.sock|" "$conf" >"$base/user.conf"
msg=$("$clone/$BUILD/bin/accessproxy" -t -c "$base/user.conf" 2>&1)
check "accessproxy -t refuses a too long control_socket clearly ($msg)" \
	'echo "$msg" | grep -q "control_socket: length [0-9]* is outside 1..107"'

[ $fails -eq 0 ] && echo "longpath: all passed" || echo "longpath: $fails failed"
exit $((fails > 0))
