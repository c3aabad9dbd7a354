# bench/lib.sh: the bench lab, sourced by bench/run.sh and bench/soak.sh (not run by itself).
#
# A private lab in $NET.0/24 (BENCH_NET, default 127.77.100), no harness: labca certificates,
# fake-dns, two piclab-load responders as the providers (sip.aol.test over MTLS, sip.yahoo.test
# over TCP), accessproxy, and Kamailio when installed. The caller sets BUILD and ROOT.
# shellcheck shell=bash

BIN=$BUILD/bin
NET=${BENCH_NET:-127.77.100}
DNS_IP=$NET.2 AP_INT=$NET.3 AP_EXT=$NET.4 KAM_IP=$NET.5 UAS_TLS=$NET.10 UAS_TCP=$NET.11
UAC_IP=$NET.20 IDLE_IP=$NET.100
WORKERS=${BENCH_WORKERS:-2}
KAMAILIO=${BENCH_KAMAILIO:-/usr/sbin/kamailio}
AP_BIN=${BENCH_AP_BIN:-$BIN/accessproxy}

LAB=$(mktemp -d /tmp/piclab-bench.XXXXXX)
PIDS=()
AP_PID= KAM_PID=

log() { printf 'bench: %s\n' "$*" >&2; }

cleanup() {
	local p i
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for i in $(seq 50); do
		local alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "${BENCH_KEEP:-0}" = 1 ]; then log "lab kept in $LAB"; else rm -rf "$LAB"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() { [ -x "$BIN/$1" ] || { log "missing $BIN/$1 (make BUILD=$BUILD all)"; exit 1; }; }
for p in accessproxy apctl labca fake-dns piclab-load; do need $p; done
if [ "$(id -u)" != 0 ]; then
	log "needs root (ports 53 and 5061 on $NET.x): nothing measured"
	exit 0
fi

# The descriptor limit: tens of thousands of idle connections need as many descriptors in the
# proxy and in the generator (which inherit it). NOFILE_OK says what was obtained.
NOFILE_WANT=${BENCH_NOFILE:-200000}
if ! ulimit -n "$NOFILE_WANT" 2>/dev/null; then
	ulimit -Hn "$NOFILE_WANT" 2>/dev/null && ulimit -n "$NOFILE_WANT" 2>/dev/null ||
		ulimit -n "$(ulimit -Hn)" 2>/dev/null
fi
NOFILE_OK=$(ulimit -n)

# Takes the lab locks of the /24s the bench uses ($NET and the COUNT-1 after it): lab N lives
# in 127.77.N.0/24 and holds /run/piclab/lab-N.lock (PICLAB_RUNTIME, or /tmp/piclab-UID when
# /run is not writable), so a scenario run and a bench never share addresses. The locks last
# as long as this shell. Exits, naming the holder, when a lab is in use.
lock_nets() {
	local count=$1 base=${NET##*.} rt i fd holder
	rt=${PICLAB_RUNTIME:-/run/piclab}
	mkdir -p "$rt" 2>/dev/null && [ -w "$rt" ] || { rt=/tmp/piclab-$(id -u); mkdir -p "$rt"; }
	command -v flock >/dev/null || { log "flock (util-linux) is missing: cannot take the lab locks"; exit 1; }
	for ((i = base; i < base + count; i++)); do
		if [ "$i" -gt 254 ]; then
			log "the bench needs $count /24s from $NET.0: past 127.77.254 (set BENCH_NET lower)"
			exit 1
		fi
		exec {fd}<>"$rt/lab-$i.lock" || exit 1
		if ! flock -n "$fd"; then
			holder=$(head -1 "$rt/lab-$i.lock" 2>/dev/null)
			log "lab $i (127.77.$i.0/24) is in use by ${holder:-another process}: stop it, or set BENCH_NET to a free range"
			exit 1
		fi
		printf 'pid %d: bench (%s)\n' "$$" "$0" >"$rt/lab-$i.lock"
	done
}

# Waits (bounded) until file contains pattern.
wait_for() {
	local file=$1 pat=$2 tenths=$3 i
	for i in $(seq "$tenths"); do
		grep -q "$pat" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# key=value from a "result ..." line.
field() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<"$1" | head -1; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# --- the lab ---
lab_up() {
	PKI=$LAB/pki
	"$BIN/labca" --dir "$PKI" >"$LAB/labca.out" 2>&1 ||
		{ log "labca failed"; cat "$LAB/labca.out"; exit 1; }
	cat "$PKI/public-root.crt" "$PKI/enterprise-root.crt" >"$PKI/roots.crt"
	cat >"$LAB/zone" <<EOF
sip.aol.test. 300 IN A $UAS_TLS
sip.yahoo.test. 300 IN A $UAS_TCP
sip.msn.test. 300 IN A $UAS_TLS
sip.gmx.test. 300 IN A $UAS_TLS
pool.contoso.test. 300 IN A $UAC_IP
EOF
	"$BIN/fake-dns" --listen "$DNS_IP" --zone "$LAB/zone" >"$LAB/dns.log" 2>&1 &
	PIDS+=($!)
	"$BIN/piclab-load" uas --listen "$UAS_TLS:5061" --cert "$PKI/sip.aol.test.crt" \
		--key "$PKI/sip.aol.test.key" --ca "$PKI/roots.crt" --duration 3600 \
		>"$LAB/uas-tls.log" 2>&1 &
	PIDS+=($!)
	"$BIN/piclab-load" uas --tcp --listen "$UAS_TCP:5060" --duration 3600 \
		>"$LAB/uas-tcp.log" 2>&1 &
	PIDS+=($!)
	UAC_TLS=(--target "$AP_INT:5061" --local "$UAC_IP" --cert "$PKI/pool.contoso.test.crt"
		 --key "$PKI/pool.contoso.test.key" --ca "$PKI/enterprise-root.crt"
		 --expect-cn ap-int.contoso.test)
	UAC_TCP=(--tcp --target "$AP_INT:5060" --local "$UAC_IP" --ruri sip:bob@yahoo.test)
	# the same towards Kamailio: its internal listener has the same certificate
	KUAC_TLS=("${UAC_TLS[@]}")
	KUAC_TLS[1]=$KAM_IP:5061
	KUAC_TCP=(--tcp --target "$KAM_IP:5060" --local "$UAC_IP" --ruri sip:bob@yahoo.test)
}

# ap.conf; $1: yes/no (audit: the state database, with its audit writer, or none at all)
write_conf() {
	local audit=${1:-yes}
	cat >"$LAB/ap.conf" <<EOF
[global]
log_level      = warn
control_socket = $LAB/ap.sock
dns_server     = $DNS_IP:53
domain         = contoso.test
allow_tcp      = yes
workers        = $WORKERS
database       = $LAB/state.db
audit          = $audit

[internal]
listen     = $AP_INT:5061
tcp_listen = $AP_INT:5060
fqdn       = ap-int.contoso.test
cert       = $PKI/ap-int.contoso.test.crt
key        = $PKI/ap-int.contoso.test.key
ca         = $PKI/enterprise-root.crt
next_hop   = pool.contoso.test

[external]
listen = $AP_EXT:5061
fqdn   = ap.contoso.test
cert   = $PKI/ap.contoso.test.crt
key    = $PKI/ap.contoso.test.key
ca     = $PKI/public-root.crt
rate_per_sec = 1000000
rate_burst   = 1000000

[provider aol]
fqdn    = sip.aol.test
port    = 5061
domains = aol.test
allow   = yes
filter  = allow-all

[provider msn]
fqdn    = sip.msn.test
port    = 5061
domains = msn.test
allow   = yes
filter  = allow-all

[provider gmx]
fqdn    = sip.gmx.test
port    = 5061
domains = gmx.test
allow   = yes
filter  = allow-all

[provider yahoo]
fqdn      = sip.yahoo.test
port      = 5060
domains   = yahoo.test
allow     = yes
filter    = allow-all
transport = tcp
EOF
	"$BIN/accessproxy" -t -c "$LAB/ap.conf" >"$LAB/check.out" 2>&1 ||
		{ log "configuration refused:"; cat "$LAB/check.out" >&2; exit 1; }
}

# apctl with the config
apctl_q() { "$BIN/apctl" -c "$LAB/ap.conf" -s "$LAB/ap.sock" "$@" 2>/dev/null; }

# The sending user must be enabled for PIC (POL-001) and the global switch on; made before the
# first start, which also creates and seeds the database once.
db_seed() {
	"$BIN/apctl" -c "$LAB/ap.conf" users enable alice@contoso.test >"$LAB/apctl.out" 2>&1 &&
	"$BIN/apctl" -c "$LAB/ap.conf" settings set pic_enabled yes >>"$LAB/apctl.out" 2>&1 ||
		{ log "apctl could not enable the bench user:"; cat "$LAB/apctl.out" >&2; }
}

load() { timeout $((${LOAD_TIMEOUT:-120})) "$BIN/piclab-load" "$@" 2>>"$LAB/load.err" |
	grep '^result' | tail -1; }

# RSS (kB), CPU ticks, descriptors of a process tree (the master and its children).
tree_pids() { [ -n "$1" ] && { echo "$1"; pgrep -P "$1" 2>/dev/null; }; }
tree_rss() {
	local p t=0 r
	for p in $(tree_pids "$1"); do
		# proportional set size: pages shared by the processes count once in total
		r=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		t=$((t + ${r:-0}))
	done
	echo $t
}
tree_cpu() {
	local p t=0 c
	for p in $(tree_pids "$1"); do
		c=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)
		t=$((t + ${c:-0}))
	done
	echo $t
}
tree_fds() {
	local p t=0
	for p in $(tree_pids "$1"); do
		t=$((t + $(ls "/proc/$p/fd" 2>/dev/null | wc -l)))
	done
	echo $t
}
ap_rss() { tree_rss "$AP_PID"; }
ap_cpu() { tree_cpu "$AP_PID"; }
HZ=$(getconf CLK_TCK)
cpu_per_tx() { awk -v t="${1:-0}" -v n="${2:-0}" -v hz="$HZ" \
	'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }'; }

# A numeric field of `apctl status` (the audit writer's "depth", "pending", "busy_us"; the
# heap's "in_use", "free" ...) summed over every worker: each answers on its own control
# socket (ap.sock, ap.sock.1 ...). 0 when no worker reports it.
ap_status_sum() {
	local i sock
	for ((i = 0; i < WORKERS; i++)); do
		sock=$LAB/ap.sock
		[ "$i" = 0 ] || sock=$LAB/ap.sock.$i
		"$BIN/apctl" -c "$LAB/ap.conf" -s "$sock" status 2>/dev/null
	done | grep -o "\"$1\":[0-9]*" | awk -F: '{ s += $2 } END { print s + 0 }'
}

# Each phase gets a fresh proxy, so what one phase leaves behind (transactions kept until
# Timer F, the audit backlog) does not count against the next; ap_stop reports its RSS.
AP_STARTS=0
ap_start() {
	local i ready=0
	AP_STARTS=$((AP_STARTS + 1))
	"$AP_BIN" -c "$LAB/ap.conf" >>"$LAB/ap.log" 2>&1 &
	AP_PID=$!
	PIDS+=($AP_PID)
	for i in $(seq 100); do
		if apctl_q ready >/dev/null; then ready=1; break; fi
		kill -0 "$AP_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ $ready = 0 ]; then
		log "accessproxy did not become ready:"; tail -20 "$LAB/ap.log" >&2; exit 1
	fi
	for i in $(seq 50); do
		[ "$WORKERS" -le 1 ] && break
		[ "$(pgrep -c -P "$AP_PID")" -ge "$WORKERS" ] && break
		sleep 0.1
	done
	sleep 0.2
	NPROCS=$(tree_pids "$AP_PID" | wc -l)
	# a few transactions warm each worker's path (DNS, the peer connections)
	load uac "${UAC_TLS[@]}" --conns $((WORKERS * 4)) --count $((WORKERS * 8)) --duration 2 >/dev/null
	load uac "${UAC_TCP[@]}" --conns $((WORKERS * 4)) --count $((WORKERS * 8)) --duration 2 >/dev/null
}
ap_stop() { # AP_LAST_RSS: RSS in kB just before stopping
	local i
	AP_LAST_RSS=$(ap_rss)
	kill "$AP_PID" 2>/dev/null
	for i in $(seq 150); do kill -0 "$AP_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$AP_PID" 2>/dev/null
	wait "$AP_PID" 2>/dev/null
	AP_PID=
}

# --- Kamailio: a stateful MESSAGE relay (tm, t_relay) with bench/kamailio.cfg ---
kam_available() {
	[ -x "$KAMAILIO" ] || { KAM_WHY="$KAMAILIO not installed (make deps installs kamailio and kamailio-tls-modules)"; return 1; }
	[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ] ||
		{ KAM_WHY="kamailio-tls-modules not installed (make deps)"; return 1; }
	return 0
}
kam_version() { "$KAMAILIO" -v 2>/dev/null | sed -n 's/^version: //p' | head -1; }
kam_start() {
	local i
	sed -e "s|@PKI@|$PKI|g" "$ROOT/bench/kamailio-tls.cfg" >"$LAB/kam-tls.cfg"
	"$KAMAILIO" -DD -E -m "${BENCH_KAM_SHM:-512}" -M 16 -f "$ROOT/bench/kamailio.cfg" \
		-l "tcp:$KAM_IP:5060" -l "tls:$KAM_IP:5061" -A "UAS_TLS=\"$UAS_TLS\"" -A "UAS_TCP=\"$UAS_TCP\"" \
		-A "TLS_CFG=\"$LAB/kam-tls.cfg\"" -A "CHILDREN=$WORKERS" \
		-P "$LAB/kam.pid" >>"$LAB/kam.log" 2>&1 &
	KAM_PID=$!
	PIDS+=($KAM_PID)
	for i in $(seq 100); do
		kill -0 "$KAM_PID" 2>/dev/null || { log "kamailio exited:"; tail -20 "$LAB/kam.log" >&2; KAM_PID=; return 1; }
		if ss -ltn 2>/dev/null | grep -q "$KAM_IP:5061"; then break; fi
		sleep 0.1
	done
	sleep 0.5
	load uac "${KUAC_TLS[@]}" --conns $((WORKERS * 4)) --count $((WORKERS * 8)) --duration 2 >/dev/null
	load uac "${KUAC_TCP[@]}" --conns $((WORKERS * 4)) --count $((WORKERS * 8)) --duration 2 >/dev/null
	return 0
}
kam_stop() {
	local i
	KAM_LAST_RSS=$(tree_rss "$KAM_PID")
	kill "$KAM_PID" 2>/dev/null
	for i in $(seq 100); do kill -0 "$KAM_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$KAM_PID" 2>/dev/null
	wait "$KAM_PID" 2>/dev/null
	KAM_PID=
}
