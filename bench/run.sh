#!/usr/bin/env bash
# bench/run.sh BUILD: accessproxy's sustainable MESSAGE throughput over TCP and MTLS (audit on
# and off), side by side with Kamailio (bench/kamailio.cfg) in the same run with the same load
# generator, responder, connections and rates; burst peaks (labelled as bursts); memory per
# idle MTLS connection. Prints figures, asserts none. The lab: bench/lib.sh.
#
# Sustainable: the highest open-loop rate at which a run of BENCH_SECS keeps the added p99 (p99
# through the relay minus p99 straight to the responder at the same rate) under 5 ms, with no
# errors or timeouts, the rate achieved, the audit queue depth bounded and the RSS flat. Found
# by bisection between 0 and the burst peak, BENCH_STEPS runs per configuration.
#
# Knobs (environment): BENCH_SECS (seconds per sustained run, default 60), BENCH_STEPS
# (bisection runs per configuration, default 3), BENCH_BURST_SECS (closed-loop bursts,
# default 4), BENCH_CONNS (load connections, default 4 per worker), BENCH_WORKERS (default 2;
# Kamailio gets as many children), BENCH_IDLE_CONNS (default 50000; 0 skips), BENCH_KAMAILIO
# (the binary, default /usr/sbin/kamailio; "none" skips it), BENCH_NET (the lab's /24,
# default 127.77.100; idle source addresses use the next /24s: 2,000 from $NET+1), BENCH_KEEP=1
# (keep the lab), BENCH_ONLY=idle (the idle connections alone), BENCH_PROTOS (default "tcp mtls":
# the transports measured).
set -u

BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

SECS=${BENCH_SECS:-60}
STEPS=${BENCH_STEPS:-3}
BURST=${BENCH_BURST_SECS:-4}
CONNS=${BENCH_CONNS:-$((WORKERS * 4))}
IDLE_CONNS=${BENCH_IDLE_CONNS:-50000}
ADDED_MAX_US=5000
LOAD_TIMEOUT=$((SECS + 60))

# the lab's /24 and the idle connections' source /24s (25 connections an address, 254
# addresses a /24, one /24 of margin for where each generator starts)
lock_nets $(( 3 + (IDLE_CONNS + 24) / 25 / 254 ))
lab_up
write_conf yes
db_seed

KAM=0
if [ "$KAMAILIO" = none ]; then
	KAM_WHY="skipped (BENCH_KAMAILIO=none)"
elif kam_available; then
	KAM=1
fi

# --- one sustained run: $1 sut (ap|kam), $2 proto (tcp|mtls), $3 rate -> sets RUN_* ---
# RSS and audit depth are sampled every 2 s; flat: the RSS at the end within 10% (+1 MB) of
# the RSS a third into the run; bounded: the depth at the end under 10,000 and not above
# twice the largest depth of the first third (+1,000).
uac_args() { # sut proto -> UAC array
	case "$1/$2" in
	ap/mtls) UAC=("${UAC_TLS[@]}") ;;
	ap/tcp) UAC=("${UAC_TCP[@]}") ;;
	kam/mtls) UAC=("${KUAC_TLS[@]}") ;;
	kam/tcp) UAC=("${KUAC_TCP[@]}") ;;
	esac
}
sut_pid() { [ "$1" = ap ] && echo "$AP_PID" || echo "$KAM_PID"; }
sustained() {
	local sut=$1 proto=$2 rate=$3 pid out t third rss1=0 rssN dmax1=0 d dN=0 r
	uac_args "$sut" "$proto"
	pid=$(sut_pid "$sut")
	out=$LAB/run-$sut-$proto-$rate.out
	timeout $((SECS + 60)) "$BIN/piclab-load" uac "${UAC[@]}" --conns "$CONNS" --rate "$rate" \
		--duration "$SECS" --warmup 1000 >"$out" 2>>"$LAB/load.err" &
	local lp=$!
	third=$(( SECS / 3 ))
	for ((t = 0; t < SECS; t += 2)); do
		sleep 2
		d=0
		[ "$sut" = ap ] && d=$(ap_status_sum pending)
		if [ $t -lt "$third" ]; then
			[ "$d" -gt "$dmax1" ] && dmax1=$d
			rss1=$(tree_rss "$pid")
		fi
		dN=$d
	done
	rssN=$(tree_rss "$pid")
	wait $lp
	r=$(grep '^result' "$out" | tail -1)
	RUN_RESULT=$r RUN_RSS1=$rss1 RUN_RSSN=$rssN RUN_DEPTH=$dN RUN_DMAX1=$dmax1
	RUN_WHY=
	[ -n "$r" ] || { RUN_WHY="no result"; return 1; }
	[ "$(field "$r" errors)" = 0 ] || RUN_WHY+="errors=$(field "$r" errors) "
	[ "$(field "$r" timeouts)" = 0 ] || RUN_WHY+="timeouts=$(field "$r" timeouts) "
	[ "$(field "$r" closed)" = 0 ] || RUN_WHY+="closed=$(field "$r" closed) "
	awk -v t="$(field "$r" tps)" -v r="$rate" 'BEGIN { exit !(t >= 0.98 * r) }' ||
		RUN_WHY+="achieved $(field "$r" tps)/s "
	RUN_ADDED=$(awk -v a="$(field "$r" p99_us)" -v b="${BASE_P99[$proto]:-0}" 'BEGIN { printf "%.0f", a - b }')
	[ "$RUN_ADDED" -lt $ADDED_MAX_US ] || RUN_WHY+="added p99 ${RUN_ADDED}us "
	awk -v a="$rss1" -v b="$rssN" 'BEGIN { exit !(b <= a * 1.10 + 1024) }' ||
		RUN_WHY+="RSS ${rss1}->${rssN}kB "
	[ "$dN" -lt 10000 ] && [ "$dN" -le $((2 * dmax1 + 1000)) ] || RUN_WHY+="audit depth ${dmax1}->${dN} "
	[ -z "$RUN_WHY" ]
}

sut_start() { # sut audit
	if [ "$1" = ap ]; then write_conf "$2"; ap_start; else kam_start; fi
}
# A Kamailio that died under the load (its tls module has aborted on a corrupted heap with
# OpenSSL 3) is named, with the lines of its log that say why, beside its figures.
KAM_DIED=
sut_stop() {
	if [ "$1" = ap ]; then ap_stop; return; fi
	if [ -n "$KAM_PID" ] && ! kill -0 "$KAM_PID" 2>/dev/null; then
		KAM_DIED+="${KAM_DIED:+; }during ${KAM_WHAT:-a run}: $(grep -E 'ALERT|CRITICAL' "$LAB/kam.log" |
			tail -3 | sed -e 's/^ *[0-9]*([0-9]*) //' | tr '\n' ' ')"
		log "kamailio died during ${KAM_WHAT:-a run} (its log: $LAB/kam.log, kept with BENCH_KEEP=1)"
	fi
	kam_stop
}

# --- burst: closed loop, CONNS x window 16, BURST seconds (a fresh relay) ---
declare -A PEAK PEAKCPU SUST SUSTLOW SUSTINFO BASE_P99 ROWLOAD
burst() { # sut proto audit
	local sut=$1 proto=$2 audit=$3 c0 r
	sut_start "$sut" "$audit" || return 1
	KAM_WHAT="the $proto burst"
	uac_args "$sut" "$proto"
	c0=$(tree_cpu "$(sut_pid "$sut")")
	r=$(load uac "${UAC[@]}" --conns "$CONNS" --window 16 --duration "$BURST")
	PEAKCPU[$sut/$proto/$audit]=$(cpu_per_tx $(( $(tree_cpu "$(sut_pid "$sut")") - c0 )) "$(field "$r" ok)")
	sut_stop "$sut"
	PEAK[$sut/$proto/$audit]=$(field "$r" tps)
	ROWLOAD[burst/$sut/$proto/$audit]=$(loadavg)
	log "burst $sut $proto audit=$audit: ${PEAK[$sut/$proto/$audit]} tx/s (load $(loadavg))"
}

# --- sustainable: bisection between 0 and the burst peak ---
sustainable() { # sut proto audit
	local sut=$1 proto=$2 audit=$3 lo=0 hi=${PEAK[$1/$2/$3]:-0} mid i best=0 info="" pk
	[ "$hi" -gt 0 ] || { SUST[$sut/$proto/$audit]=0; return; }
	mid=$((hi / 2))
	for ((i = 0; i < STEPS; i++)); do
		sut_start "$sut" "$audit" || break
		KAM_WHAT="the $proto run at $mid/s"
		if sustained "$sut" "$proto" "$mid"; then
			best=$mid lo=$mid
			info="p50 $(field "$RUN_RESULT" p50_us)us p99 $(field "$RUN_RESULT" p99_us)us (added ${RUN_ADDED}us), RSS ${RUN_RSS1}->${RUN_RSSN}kB, audit depth ${RUN_DEPTH}"
			log "$sut $proto audit=$audit at $mid/s for ${SECS}s: held ($info; load $(loadavg))"
		else
			hi=$mid
			log "$sut $proto audit=$audit at $mid/s for ${SECS}s: not held: $RUN_WHY(load $(loadavg))"
		fi
		sut_stop "$sut"
		mid=$(( (lo + hi) / 2 ))
	done
	SUST[$sut/$proto/$audit]=$best
	SUSTLOW[$sut/$proto/$audit]=$hi # the lowest rate that did not hold (the peak when all held)
	SUSTINFO[$sut/$proto/$audit]=$info
	ROWLOAD[sust/$sut/$proto/$audit]=$(loadavg)
}

# --- the same rate straight at the responder: the latency to subtract ---
baseline() { # proto rate
	local r
	if [ "$1" = mtls ]; then
		r=$(load baseline --target "$UAS_TLS:5061" --local "$UAC_IP" --cert "$PKI/pool.contoso.test.crt" \
			--key "$PKI/pool.contoso.test.key" --ca "$PKI/public-root.crt" --expect-cn sip.aol.test \
			--conns "$CONNS" --rate "$2" --duration 10 --warmup 1000)
	else
		r=$(load baseline --tcp --target "$UAS_TCP:5060" --local "$UAC_IP" --ruri sip:bob@yahoo.test \
			--conns "$CONNS" --rate "$2" --duration 10 --warmup 1000)
	fi
	BASE_P99[$1]=$(field "$r" p99_us)
	BASE_P99[$1]=${BASE_P99[$1]:-0}
	log "baseline $1 at $2/s straight to the responder: p99 ${BASE_P99[$1]}us"
}

START_LOAD=$(loadavg)
log "lab $NET.0/24, $(nproc) cores, workers $WORKERS, ${SECS}s sustained runs x $STEPS, bursts ${BURST}s, load $START_LOAD"

# --- 1. memory per idle MTLS connection (first: a proxy that has carried little) ---
# Each process may open NOFILE_OK descriptors: the connections are spread over as many proxy
# workers and generator processes as that takes (said in the output), 25 per source address
# (the proxy caps connections per address and worker). The proxy closes a connection without
# a message for 2 min (ROB-003) and handshakes take a while on a busy box: each connection
# sends a MESSAGE a minute meanwhile.
idle_up=0 rss0=0 rss1=0 idle_note= idle_workers=$WORKERS
if [ "$IDLE_CONNS" -gt 0 ]; then
	fd_per=$(( ${NOFILE_OK/unlimited/1000000} - 500 ))
	if [ "$NOFILE_OK" != unlimited ] && [ "$NOFILE_OK" -lt "$NOFILE_WANT" ]; then
		idle_note="the descriptor limit is $NOFILE_OK a process (could not raise it to $NOFILE_WANT: no CAP_SYS_RESOURCE?)"
	fi
	per_worker=$(( fd_per * 8 / 10 ))
	idle_workers=$(( (IDLE_CONNS + per_worker - 1) / per_worker ))
	[ $idle_workers -ge "$WORKERS" ] || idle_workers=$WORKERS
	[ $idle_workers -le 64 ] || idle_workers=64
	[ $idle_workers = "$WORKERS" ] || idle_note+="${idle_note:+; }held by $idle_workers workers (not $WORKERS) for the descriptors"
	ngen=$(( (IDLE_CONNS + fd_per * 9 / 10 - 1) / (fd_per * 9 / 10) ))
	[ -n "$idle_note" ] && log "idle: $idle_note"
	saved_workers=$WORKERS WORKERS=$idle_workers
	write_conf yes
	ap_start
	WORKERS=$saved_workers
	rss0=$(ap_rss) heap0=$(WORKERS=$idle_workers ap_status_sum in_use)
	nloc=$(( (IDLE_CONNS + 24) / 25 ))
	IDLE_PIDS=()
	for ((g = 0; g < ngen; g++)); do
		n=$(( IDLE_CONNS / ngen + (g < IDLE_CONNS % ngen ? 1 : 0) ))
		o=$(( g * ((nloc + ngen - 1) / ngen) ))
		first="${NET%.*}.$(( ${NET##*.} + 1 + o / 254 )).$(( 1 + o % 254 ))"
		timeout 900 "$BIN/piclab-load" uac "${UAC_TLS[@]}" --local "$first" \
			--locals $(( (n + 24) / 25 )) --idle --conns "$n" --duration 900 \
			--rate $(( n / 60 + 1 )) \
			>"$LAB/idle-$g.out" 2>>"$LAB/load.err" &
		IDLE_PIDS+=($!)
		PIDS+=($!)
	done
	for ((g = 0; g < ngen; g++)); do
		wait_for "$LAB/idle-$g.out" '^established' 6000 || break
	done
	sleep 2
	rss1=$(ap_rss) heap1=$(WORKERS=$idle_workers ap_status_sum in_use)
	heapfree=$(WORKERS=$idle_workers ap_status_sum free)
	for ((g = 0; g < ngen; g++)); do
		idle_up=$(( idle_up + $(sed -n 's/^established \([0-9]*\) .*/\1/p' "$LAB/idle-$g.out" | head -1) + 0 ))
	done
	IDLE_LOAD=$(loadavg)
	kill "${IDLE_PIDS[@]}" 2>/dev/null
	wait "${IDLE_PIDS[@]}" 2>/dev/null
	ap_stop
	write_conf yes
	log "idle: $idle_up MTLS connections held ($ngen generators, $idle_workers workers), RSS $rss0 -> $rss1 kB"
fi

# --- 2. bursts ---
PROTOS=${BENCH_PROTOS:-tcp mtls}
[ "${BENCH_ONLY:-}" = idle ] && PROTOS= KAM=0 KAM_WHY="skipped (BENCH_ONLY=idle)"
for proto in $PROTOS; do
	for audit in yes no; do burst ap $proto $audit; done
	[ $KAM = 1 ] && burst kam $proto -
done

# --- 3. sustainable ---
for proto in $PROTOS; do
	half=$(( ${PEAK[ap/$proto/yes]:-0} / 2 ))
	[ "$half" -ge 100 ] || half=100
	baseline $proto "$half"
	for audit in yes no; do sustainable ap $proto $audit; done
	[ $KAM = 1 ] && sustainable kam $proto -
done

# --- 4. added latency at 50% of the sustainable MTLS rate (audit on) ---
lat50= lat50_rate=$(( ${SUST[ap/mtls/yes]:-0} / 2 ))
if [ "$lat50_rate" -ge 100 ]; then
	write_conf yes
	ap_start
	sustained ap mtls "$lat50_rate"
	lat50="p50 $(field "$RUN_RESULT" p50_us)us p99 $(field "$RUN_RESULT" p99_us)us, added p99 ${RUN_ADDED}us"
	LAT50_LOAD=$(loadavg)
	ap_stop
fi

# --- the table ---
# a sustainable rate as shown: the rate, or "<R" when no run held (R: the lowest rate tried)
sust_shown() {
	if [ "${SUST[$1]:-0}" -gt 0 ] || [ "${SUSTLOW[$1]:-0}" = 0 ]; then echo "${SUST[$1]:-0}"
	else echo "<${SUSTLOW[$1]}"; fi
}
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'; }
row() { printf '%-52s %-12s %-12s %-7s %s\n' "$@"; }
echo
echo "accessproxy vs Kamailio — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(nproc) cores shared with the load generator and responders"
echo "accessproxy: $($BIN/accessproxy --version 2>/dev/null || git -C "$ROOT" describe --always --dirty 2>/dev/null), workers=$WORKERS ($NPROCS processes)"
if [ $KAM = 1 ]; then echo "Kamailio: $(kam_version), tm/t_relay, children=$WORKERS tcp_children=$WORKERS (bench/kamailio.cfg)"
else echo "Kamailio: not measured: $KAM_WHY"; fi
echo "load: $CONNS connections, sustained runs ${SECS}s (bisection, $STEPS runs each), bursts ${BURST}s closed loop x window 16"
echo "load average at the start: $START_LOAD"
echo
row "figure" "accessproxy" "Kamailio" "ratio" "load average (1 5 15 min)"
row "----------------------------------------------------" "------------" "------------" "-------" "-------------------------"
for proto in $PROTOS; do
	P=$(echo $proto | tr a-z A-Z)
	for audit in yes no; do
		a=$(sust_shown ap/$proto/$audit) k=- kr=-
		if [ $KAM = 1 ]; then
			k=$(sust_shown kam/$proto/-) kr=$(ratio "${SUST[ap/$proto/$audit]}" "${SUST[kam/$proto/-]:-0}")
			# no run of Kamailio held: its sustainable rate is below the lowest tried, so the
			# ratio is at least accessproxy's rate over that one
			[ "${SUST[kam/$proto/-]:-0}" = 0 ] && [ "${SUST[ap/$proto/$audit]:-0}" -gt 0 ] &&
				[ "${SUSTLOW[kam/$proto/-]:-0}" -gt 0 ] &&
				kr=">$(awk -v a="${SUST[ap/$proto/$audit]}" -v b="${SUSTLOW[kam/$proto/-]}" \
					'BEGIN { printf "%.2f", int(a * 100 / b) / 100 }')" # rounded down
		fi
		row "$P sustainable tx/s, audit $( [ $audit = yes ] && echo on || echo off)" "$a" "$k" "$kr" "${ROWLOAD[sust/ap/$proto/$audit]:-}"
	done
done
for proto in $PROTOS; do
	P=$(echo $proto | tr a-z A-Z)
	for audit in yes no; do
		k=- kr=-
		[ $KAM = 1 ] && k=${PEAK[kam/$proto/-]:-0} && kr=$(ratio "${PEAK[ap/$proto/$audit]}" "$k")
		row "$P BURST peak ${BURST}s closed loop tx/s, audit $( [ $audit = yes ] && echo on || echo off)" "${PEAK[ap/$proto/$audit]:-0}" "$k" "$kr" "${ROWLOAD[burst/ap/$proto/$audit]:-}"
	done
	k=- kr=-
	[ $KAM = 1 ] && k=${PEAKCPU[kam/$proto/-]:--} && kr=$(ratio "$k" "${PEAKCPU[ap/$proto/yes]}")
	row "$P CPU per tx at the burst peak (us), audit on" "${PEAKCPU[ap/$proto/yes]:--}" "$k" "$kr" "(Kamailio/accessproxy)"
done
if [ -n "$lat50" ]; then
	row "MTLS at 50% of sustainable ($lat50_rate/s), audit on" "$lat50" "" "" "$LAT50_LOAD"
fi
if [ "$IDLE_CONNS" -gt 0 ]; then
	row "idle MTLS connections held (of $IDLE_CONNS, $idle_workers workers)" "$idle_up" "" "" "${IDLE_LOAD:-}"
	if [ "${idle_up:-0}" -gt 0 ]; then
		row "memory per idle MTLS connection (bytes, PSS)" "$(( (rss1 - rss0) * 1024 / idle_up ))" "" "" "RSS $rss0 -> $rss1 kB"
		echo "  (the proxy's whole process tree, PSS after the handshakes less PSS before, over the connections"
		echo "  held: TLS state, libevent, the proxy's own; the connections of one peer share the parse of its"
		echo "  certificate and chain; kernel socket buffers are not in it)"
		if [ "${heap1:-0}" -gt 0 ]; then
			row "  of which heap in use per connection (bytes)" "$(( (heap1 - heap0) / idle_up ))" "" "" "heap free but kept: $(( heapfree / 1024 )) kB"
			echo "  (the allocator's own count, malloc's mallinfo2 summed over the workers: what the connections"
			echo "  hold, without the allocator's fragments and unreturned free memory)"
		fi
	fi
	[ -n "$idle_note" ] && echo "note: $idle_note"
fi
echo
if [ "${BENCH_ONLY:-}" = idle ]; then
	echo "goal: <= 16 kB per idle MTLS connection"
	echo "load average at the end: $(loadavg)"
	exit 0
fi
echo "sustained runs that held (the highest per configuration):"
for k in "${!SUSTINFO[@]}"; do [ -n "${SUSTINFO[$k]}" ] && echo "  $k at ${SUST[$k]}/s: ${SUSTINFO[$k]}"; done
echo "latency subtracted (p99 straight to the responder):$(for p in $PROTOS; do printf ' %s %sus' "${p^^}" "${BASE_P99[$p]:-?}"; done)"
[ -z "$KAM_DIED" ] || echo "note: Kamailio died (its figures are 0 where it did): $KAM_DIED"
echo "goals: sustainable MTLS >= 3x Kamailio; added p99 < 2 ms at 50% of sustainable; <= 16 kB per idle MTLS connection"
echo "load average at the end: $(loadavg)"
exit 0
