#!/usr/bin/env bash
# bench/run.sh BUILD: accessproxy MESSAGE throughput (SIPp over TCP, piclab-load over MTLS),
# added latency at half peak, and memory per idle MTLS connection. Prints figures, asserts none.
#
# A private lab in 127.77.210.0/24, no harness: labca certificates, fake-dns, two piclab-load
# responders as the providers (sip.aol.test over MTLS, sip.yahoo.test over TCP), accessproxy.
# Knobs (environment): BENCH_WORKERS (default 2), BENCH_SECS (seconds per step, default 4),
# BENCH_STEADY_SECS (the steady-state run at half peak, default 40; 0 skips it),
# BENCH_IDLE_CONNS (default 2000), BENCH_SIPP_PROCS (default 2), BENCH_KEEP=1 (keep the lab
# directory with logs and configs).
set -u

BUILD=${1:-build}
BIN=$BUILD/bin
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NET=${BENCH_NET:-127.77.210}
DNS_IP=$NET.2 AP_INT=$NET.3 AP_EXT=$NET.4 UAS_TLS=$NET.10 UAS_TCP=$NET.11 UAC_IP=$NET.20
WORKERS=${BENCH_WORKERS:-2}
SECS=${BENCH_SECS:-4}
IDLE_CONNS=${BENCH_IDLE_CONNS:-2000}
SIPP_PROCS=${BENCH_SIPP_PROCS:-2}
STEADY=${BENCH_STEADY_SECS:-40}
SIPP_RATES=${BENCH_SIPP_RATES:-"10000 15000 20000 30000 40000 50000 60000"}
BENCH_DEADLINE=$((SECONDS + 300))

LAB=$(mktemp -d /tmp/piclab-bench.XXXXXX)
PIDS=()
AP_PID=

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
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

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

# --- the lab ---
PKI=$LAB/pki
"$BIN/labca" --dir "$PKI" >"$LAB/labca.out" 2>&1 || { log "labca failed"; cat "$LAB/labca.out"; exit 1; }
cat "$PKI/public-root.crt" "$PKI/enterprise-root.crt" >"$PKI/roots.crt"
cat >"$LAB/zone" <<EOF
sip.aol.test. 300 IN A $UAS_TLS
sip.yahoo.test. 300 IN A $UAS_TCP
pool.contoso.test. 300 IN A $UAC_IP
EOF
"$BIN/fake-dns" --listen "$DNS_IP" --zone "$LAB/zone" >"$LAB/dns.log" 2>&1 &
PIDS+=($!)

"$BIN/piclab-load" uas --listen "$UAS_TLS:5061" --cert "$PKI/sip.aol.test.crt" \
	--key "$PKI/sip.aol.test.key" --ca "$PKI/roots.crt" --duration 600 >"$LAB/uas-tls.log" 2>&1 &
PIDS+=($!)
"$BIN/piclab-load" uas --tcp --listen "$UAS_TCP:5060" --duration 600 >"$LAB/uas-tcp.log" 2>&1 &
PIDS+=($!)

write_conf() {
	cat >"$LAB/ap.conf" <<EOF
[global]
log_level      = warn
control_socket = $LAB/ap.sock
dns_server     = $DNS_IP:53
domain         = contoso.test
allow_tcp      = yes
workers        = $WORKERS
$1
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

[provider aol]
fqdn    = sip.aol.test
port    = 5061
domains = aol.test
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
}

# The state database key exists once the store is in; older builds refuse it.
write_conf "database       = $LAB/state.db"
if ! "$BIN/accessproxy" -t -c "$LAB/ap.conf" >"$LAB/check.out" 2>&1; then
	if grep -q "unknown key 'database'" "$LAB/check.out"; then
		write_conf ""
	fi
	"$BIN/accessproxy" -t -c "$LAB/ap.conf" >"$LAB/check.out" 2>&1 ||
		{ log "configuration refused:"; cat "$LAB/check.out" >&2; exit 1; }
fi

# apctl with the config (newer apctl wants it) or with the socket alone (older ones)
apctl_q() {
	"$BIN/apctl" -c "$LAB/ap.conf" -s "$LAB/ap.sock" "$@" 2>/dev/null ||
		"$BIN/apctl" -s "$LAB/ap.sock" "$@" 2>/dev/null
}

# With the state database: the sending user must be enabled for PIC (POL-001) and the global
# switch on; made before the start, which also creates and seeds the database once.
if grep -q '^database' "$LAB/ap.conf"; then
	"$BIN/apctl" -c "$LAB/ap.conf" users enable alice@contoso.test >"$LAB/apctl.out" 2>&1 &&
	"$BIN/apctl" -c "$LAB/ap.conf" settings set pic_enabled yes >>"$LAB/apctl.out" 2>&1 ||
		{ log "apctl could not enable the bench user:"; cat "$LAB/apctl.out" >&2; }
fi

UAC_TLS=(--target "$AP_INT:5061" --local "$UAC_IP" --cert "$PKI/pool.contoso.test.crt"
	 --key "$PKI/pool.contoso.test.key" --ca "$PKI/enterprise-root.crt"
	 --expect-cn ap-int.contoso.test)
load() { timeout 120 "$BIN/piclab-load" "$@" 2>>"$LAB/load.err" | grep '^result' | tail -1; }

# RSS (kB) of the proxy: the master and every worker.
ap_pids() { echo "$AP_PID"; pgrep -P "$AP_PID" 2>/dev/null; }
ap_rss() {
	local p t=0 r
	for p in $(ap_pids); do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		t=$((t + ${r:-0}))
	done
	echo $t
}

# CPU time (clock ticks, all threads) of the proxy's processes so far.
ap_cpu() {
	local p t=0 c
	for p in $(ap_pids); do
		c=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)
		t=$((t + ${c:-0}))
	done
	echo $t
}
HZ=$(getconf CLK_TCK)
# microseconds of proxy CPU per transaction, from ticks and a count
cpu_per_tx() { awk -v t="${1:-0}" -v n="${2:-0}" -v hz="$HZ" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }'; }

# Each phase gets a fresh proxy, so what one phase leaves behind (transactions kept until
# Timer F, the audit backlog) does not count against the next; ap_stop reports its RSS.
AP_STARTS=0
ap_start() {
	local i ready=0
	AP_STARTS=$((AP_STARTS + 1))
	"$BIN/accessproxy" -c "$LAB/ap.conf" >>"$LAB/ap.log" 2>&1 &
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
	# the other workers start after worker 0's head start: wait for all of them (bounded)
	for i in $(seq 50); do
		[ "$WORKERS" -le 1 ] && break
		[ "$(pgrep -c -P "$AP_PID")" -ge "$WORKERS" ] && break
		sleep 0.1
	done
	sleep 0.2
	NPROCS=$(ap_pids | wc -l)
	# a few transactions warm each worker's path (DNS, the peer connections)
	load uac "${UAC_TLS[@]}" --conns $((WORKERS * 4)) --count $((WORKERS * 8)) --duration 2 >/dev/null
	load uac --tcp --target "$AP_INT:5060" --local "$UAC_IP" --ruri sip:bob@yahoo.test \
		--conns $((WORKERS * 4)) --count $((WORKERS * 8)) --duration 2 >/dev/null
}
ap_stop() { # -> RSS in kB just before stopping
	local i
	AP_LAST_RSS=$(ap_rss)
	kill "$AP_PID" 2>/dev/null
	for i in $(seq 150); do kill -0 "$AP_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$AP_PID" 2>/dev/null
	wait "$AP_PID" 2>/dev/null
}

ap_start

# --- (c) memory per idle MTLS connection, first, on a proxy that has carried little ---
# (from 16 source addresses: the proxy caps connections per source address)
rss0=$(ap_rss)
timeout 90 "$BIN/piclab-load" uac "${UAC_TLS[@]}" --locals 16 --idle --conns "$IDLE_CONNS" --duration 60 \
	>"$LAB/idle.out" 2>>"$LAB/load.err" &
IDLE_PID=$!
PIDS+=($IDLE_PID)
if wait_for "$LAB/idle.out" '^established' 600; then
	sleep 1
	rss1=$(ap_rss)
	idle_up=$(sed -n 's/^established \([0-9]*\) .*/\1/p' "$LAB/idle.out")
	apstat=$(apctl_q status)
else
	rss1=$rss0 idle_up=0 apstat=
fi
kill "$IDLE_PID" 2>/dev/null
wait "$IDLE_PID" 2>/dev/null
ap_stop

# Waits until worker 0's audit queue is empty (bounded), then 1 s: the phase before on the same
# proxy (the warm-up, the baseline) must not leave work behind.
settle() {
	local i st
	for i in $(seq 100); do
		st=$(apctl_q status)
		grep -q '"depth":[1-9]' <<<"$st" || break
		sleep 0.1
	done
	sleep 1
}

# --- (a) SIPp over TCP: ramp until the proxy stops keeping up ---
sipp_step() { # rate -> "achieved failed"
	local rate=$1 n per i ok=0 fail=0 t0 t1 csv sp=()
	per=$((rate / SIPP_PROCS))
	n=$((per * SECS))
	t0=$(date +%s.%N)
	for i in $(seq "$SIPP_PROCS"); do
		(cd "$LAB" && timeout $((SECS * 3 + 15)) sipp "$AP_INT:5060" -sf "$ROOT/bench/sipp/message_uac.xml" \
			-t t1 -i "$UAC_IP" -p $((15060 + i)) -s bob -key domain yahoo.test \
			-r "$per" -l $((per / 2 + 100)) -m "$n" -nostdin -timeout $((SECS * 3 + 10))s \
			-trace_stat -stf "$LAB/sipp-$rate-$i.csv" -fd 1 \
			>"$LAB/sipp-$rate-$i.out" 2>&1) &
		sp+=($!)
	done
	wait "${sp[@]}" 2>/dev/null
	t1=$(date +%s.%N)
	for i in $(seq "$SIPP_PROCS"); do
		csv=$LAB/sipp-$rate-$i.csv
		[ -f "$csv" ] || continue
		ok=$((ok + $(tail -1 "$csv" | cut -d';' -f16)))
		fail=$((fail + $(tail -1 "$csv" | cut -d';' -f18)))
	done
	awk -v ok="$ok" -v f="$fail" -v a="$t0" -v b="$t1" -v s="$SECS" \
		'BEGIN { e = b - a; if (e < s) e = s; printf "%.0f %d %d\n", ok / e, f, ok }'
}
sipp_peak=0 sipp_peak_rate=0 SIPP_ROWS=()
if command -v sipp >/dev/null; then
	for rate in $SIPP_RATES; do
		[ $SECONDS -lt $((BENCH_DEADLINE - 120)) ] || { log "time budget: ramp stopped"; break; }
		ap_start
		read -r got fail okc < <(sipp_step "$rate")
		ap_stop
		SIPP_ROWS+=("$rate $got $fail $okc")
		log "sipp TCP: target $rate/s -> $got/s ($fail failed)"
		if [ "$fail" = 0 ] && [ "$got" -gt "$sipp_peak" ]; then
			sipp_peak=$got sipp_peak_rate=$rate
		fi
		# stop once it no longer keeps up (under 90% of the target, or failures)
		if [ "$fail" != 0 ] || [ "$got" -lt $((rate * 9 / 10)) ]; then break; fi
	done
else
	log "sipp not installed: TCP/SIPp part skipped"
fi

# --- piclab-load over TCP (same path as SIPp, our generator) ---
ap_start
settle
c0=$(ap_cpu)
tcp_peak=$(load uac --tcp --target "$AP_INT:5060" --local "$UAC_IP" --ruri sip:bob@yahoo.test \
	--conns $((WORKERS * 4)) --window 16 --duration "$SECS")
settle
tcp_cpu=$(cpu_per_tx $(( $(ap_cpu) - c0 )) "$(field "$tcp_peak" ok)")
ap_stop
tcp_peak_rss=$AP_LAST_RSS

# --- (b) piclab-load over MTLS: closed-loop peak, then latency at half peak ---
ap_start
settle
c0=$(ap_cpu)
tls_peak=$(load uac "${UAC_TLS[@]}" --conns $((WORKERS * 4)) --window 16 --duration "$SECS")
settle
tls_cpu=$(cpu_per_tx $(( $(ap_cpu) - c0 )) "$(field "$tls_peak" ok)")
ap_stop
tls_peak_rss=$AP_LAST_RSS
peak=$(field "$tls_peak" tps)
half=$(( ${peak:-0} / 2 ))
[ "$half" -ge 100 ] || half=100
ap_start
settle
# the same rate straight at the responder (no proxy): the latency to subtract
base=$(load baseline --target "$UAS_TLS:5061" --local "$UAC_IP" --cert "$PKI/pool.contoso.test.crt" \
	--key "$PKI/pool.contoso.test.key" --ca "$PKI/public-root.crt" --expect-cn sip.aol.test \
	--conns $((WORKERS * 4)) --rate "$half" --duration "$SECS" --warmup 500)
settle
thru=$(load uac "${UAC_TLS[@]}" --conns $((WORKERS * 4)) --rate "$half" --duration "$SECS" \
	--warmup 500)
ap_stop

# --- steady state: half peak for longer than Timer F (32 s), the last 10 s measured ---
steady= steady_rss=
if [ "$STEADY" -gt 10 ] && [ $SECONDS -lt $((BENCH_DEADLINE - STEADY - 20)) ]; then
	ap_start
	steady=$(load uac "${UAC_TLS[@]}" --conns $((WORKERS * 4)) --rate "$half" \
		--duration "$STEADY" --warmup $(( (STEADY - 10) * 1000 )))
	ap_stop
	steady_rss=$AP_LAST_RSS
fi

# --- the table ---
sub() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { d = a - b; printf "%.1f", d }'; }
echo
echo "accessproxy benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, workers=$WORKERS ($NPROCS processes), steps of ${SECS}s, a fresh proxy per phase ($AP_STARTS starts)"
echo
printf '%-58s %s\n' "figure" "value"
printf '%-58s %s\n' "----------------------------------------------------------" "------------------"
for row in "${SIPP_ROWS[@]}"; do
	read -r r g f o <<<"$row"
	printf '%-58s %s\n' "SIPp TCP ($SIPP_PROCS x t1), target $r/s: achieved (failed)" "$g/s ($f)"
done
printf '%-58s %s\n' "SIPp TCP peak without failures (tx/s)" "$sipp_peak"
printf '%-58s %s\n' "piclab-load TCP peak, $((WORKERS * 4)) conns x window 16 (tx/s)" \
	"$(field "$tcp_peak" tps) (errors $(field "$tcp_peak" errors), timeouts $(field "$tcp_peak" timeouts))"
printf '%-58s %s\n' "piclab-load MTLS peak, $((WORKERS * 4)) conns x window 16 (tx/s)" \
	"$(field "$tls_peak" tps) (errors $(field "$tls_peak" errors), timeouts $(field "$tls_peak" timeouts))"
printf '%-58s %s\n' "MTLS at half peak ($half/s) through proxy p50 / p99 (us)" \
	"$(field "$thru" p50_us) / $(field "$thru" p99_us) (achieved $(field "$thru" tps)/s)"
printf '%-58s %s\n' "MTLS at $half/s direct to responder p50 / p99 (us)" \
	"$(field "$base" p50_us) / $(field "$base" p99_us)"
printf '%-58s %s\n' "added latency at half peak p50 / p99 (us)" \
	"$(sub "$(field "$thru" p50_us)" "$(field "$base" p50_us)") / $(sub "$(field "$thru" p99_us)" "$(field "$base" p99_us)")"
printf '%-58s %s\n' "proxy CPU per tx at TCP / MTLS peak (us, audit thread incl.)" \
	"$tcp_cpu / $tls_cpu"
if [ -n "$steady" ]; then
	printf '%-58s %s\n' "steady ${STEADY}s at $half/s MTLS, last 10 s: p50 / p99 (us)" \
		"$(field "$steady" p50_us) / $(field "$steady" p99_us) (added p99 ~$(sub "$(field "$steady" p99_us)" "$(field "$base" p99_us)"))"
	printf '%-58s %s\n' "proxy RSS at the end of the steady run (kB)" "$steady_rss"
fi
printf '%-58s %s\n' "proxy RSS after ${SECS}s at TCP / MTLS peak (kB)" "$tcp_peak_rss / $tls_peak_rss"
printf '%-58s %s\n' "proxy RSS before / with $idle_up idle MTLS conns (kB)" "$rss0 / $rss1"
if [ "${idle_up:-0}" -gt 0 ]; then
	printf '%-58s %s\n' "memory per idle MTLS connection (bytes)" \
		"$(( (rss1 - rss0) * 1024 / idle_up ))"
fi
echo
echo "references: Kamailio ~15000 MESSAGE tx/s over TCP on 2 cores; design: p99 added < 1 ms at half peak, < 61 kB per idle MTLS connection"
[ -n "$apstat" ] && echo "worker 0 status with idle conns: $apstat"
echo "raw: tcp_peak: $tcp_peak"
echo "raw: tls_peak: $tls_peak"
echo "raw: baseline: $base"
echo "raw: through:  $thru"
echo "raw: steady:   $steady"
exit 0
