#!/usr/bin/env bash
# bench/soak.sh BUILD: accessproxy under a long steady load — 70% of the sustainable MTLS rate
# over 2,000 connections from three providers (aol, msn, yahoo over mutual TLS on the external
# edge, towards our users at the enterprise pool), presence (SUBSCRIBE, NOTIFY) mixed with
# MESSAGE. One row a minute: tx/s, p50/p99 over every generator's answers, RSS, descriptors,
# audit database size, the audit backlog (most records pending in the minute, all workers) and
# the audit writers' busy share; the same as an SVG plot; a flatness verdict (RSS and p99 of the
# last minute within 10% of the second minute's). Prints, asserts nothing.
#
# Knobs: SOAK_MIN (minutes, default 10), SOAK_RATE (tx/s in total; default 70% of the
# "MTLS sustainable tx/s, audit on" of the last `make bench` in BUILD/bench.txt, else 35% of a
# 4 s MTLS burst), SOAK_CONNS (default 2000), SOAK_OUT (default BUILD/soak: soak.txt, soak.svg),
# BENCH_NET (the lab's /24, default 127.77.110; use your own range on a shared machine),
# SOAK_AUDIT (yes, the default, or no: without the audit writer, to tell its share of a trend),
# BENCH_WORKERS, BENCH_KEEP=1.
set -u

BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_NET=${BENCH_NET:-127.77.110}
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

MIN=${SOAK_MIN:-10}
CONNS=${SOAK_CONNS:-2000}
OUT=${SOAK_OUT:-$BUILD/soak}
lock_nets 1
mkdir -p "$OUT"
[ "$MIN" -ge 2 ] || { log "SOAK_MIN must be 2 or more (the verdict compares minute 2 with the last)"; exit 1; }

lab_up
write_conf yes
db_seed
# SOAK_AUDIT=no: the same soak without the audit writer (its database kept for the policy only)
case "${SOAK_AUDIT:-yes}" in
yes) ;;
no) write_conf no ;;
*) log "SOAK_AUDIT must be yes or no, not '$SOAK_AUDIT'"; exit 1 ;;
esac
# the enterprise pool: where inbound requests end (pool.contoso.test, the proxy's next hop)
"$BIN/piclab-load" uas --listen "$UAC_IP:5061" --cert "$PKI/pool.contoso.test.crt" \
	--key "$PKI/pool.contoso.test.key" --ca "$PKI/roots.crt" --duration 86400 \
	>"$LAB/uas-pool.log" 2>&1 &
PIDS+=($!)
ap_start

RATE=${SOAK_RATE:-}
RATE_WHY="SOAK_RATE"
if [ -z "$RATE" ] && [ -f "$BUILD/bench.txt" ]; then
	s=$(sed -n 's/^MTLS sustainable tx\/s, audit on  *\([0-9][0-9]*\).*/\1/p' "$BUILD/bench.txt" | head -1)
	if [ -n "$s" ] && [ "$s" -gt 0 ]; then
		RATE=$((s * 7 / 10)) RATE_WHY="70% of the sustainable MTLS rate $s/s in $BUILD/bench.txt"
	fi
fi
if [ -z "$RATE" ]; then
	pk=$(load uac "${UAC_TLS[@]}" --conns $((WORKERS * 4)) --window 16 --duration 4)
	RATE=$(( $(field "$pk" tps) * 35 / 100 ))
	RATE_WHY="35% of a 4 s MTLS burst of $(field "$pk" tps)/s (no $BUILD/bench.txt: run make bench for the sustainable rate)"
	ap_stop
	ap_start
fi
[ "$RATE" -ge 30 ] || RATE=30

# Nine generators: per provider, MESSAGE (60% of its share), SUBSCRIBE and NOTIFY (20% each),
# its connections spread over 30 source addresses (the proxy caps connections per address).
PROVS=(aol msn yahoo)
GEN=()
g=0
base=${NET##*.}
for i in 0 1 2; do
	p=${PROVS[$i]}
	for m in MESSAGE SUBSCRIBE NOTIFY; do
		case $m in MESSAGE) share=60 ;; *) share=20 ;; esac
		rate=$(( RATE * share / 300 ))
		[ $rate -ge 1 ] || rate=1
		conns=$(( CONNS * share / 300 ))
		[ $conns -ge 1 ] || conns=1
		first="$NET.$(( 120 + i * 40 ))"
		timeout $((MIN * 60 + 120)) "$BIN/piclab-load" uac --target "$AP_EXT:5061" \
			--local "$first" --locals 30 --cert "$PKI/sip.$p.test.crt" \
			--key "$PKI/sip.$p.test.key" --ca "$PKI/public-root.crt" \
			--expect-cn ap.contoso.test --ruri sip:alice@contoso.test \
			--from "sip:bob@$p.test" --method $m --conns $conns --rate $rate \
			--duration $((MIN * 60 + 30)) --interval 60 --latencies "$LAB/lat-$g.txt" \
			>"$LAB/gen-$g.out" 2>>"$LAB/load.err" &
		GEN+=($!)
		PIDS+=($!)
		g=$((g + 1))
	done
done
log "soak: $MIN min at $RATE tx/s ($RATE_WHY), $CONNS connections from ${PROVS[*]}, load $(loadavg)"

# RSS, descriptors, database size once a minute, as the generators print their interval lines;
# the audit backlog (records accepted and not yet committed, over every worker) every 5 s, the
# row showing the most of the minute's 12 samples; the writers' busy time over the minute; the
# busiest other processes of the machine (it is shared) in others.txt.
dbsize() { du -ck "$LAB"/state.db* 2>/dev/null | tail -1 | cut -f1; }
: >"$OUT/others.txt"
busy0=$(ap_status_sum busy_us) t_busy=$(date +%s%N)
t_start=$(date +%s%N)
# sleeps until S seconds after the start (the samples keep to the generators' minutes however
# long apctl takes on a loaded machine)
sleep_until() {
	local left
	left=$(( (t_start + $1 * 1000000000 - $(date +%s%N)) / 1000000 ))
	[ "$left" -gt 0 ] && sleep "$(awk -v l="$left" 'BEGIN { printf "%.3f", l / 1000 }')"
	return 0
}
for ((m = 1; m <= MIN; m++)); do
	peak=0
	for ((k = 1; k <= 12; k++)); do
		sleep_until $(( (m - 1) * 60 + k * 5 ))
		d=$(ap_status_sum pending)
		[ "$d" -gt "$peak" ] && peak=$d
	done
	busy1=$(ap_status_sum busy_us) t1=$(date +%s%N)
	busy=$(awk -v b="$((busy1 - busy0))" -v t="$((t1 - t_busy))" -v w="$WORKERS" \
		'BEGIN { printf "%.0f", (t > 0 ? b * 1000 / t / w * 100 : 0) }')
	busy0=$busy1 t_busy=$t1
	echo "$m $(ap_rss) $(tree_fds "$AP_PID") $(dbsize) $peak $busy $(loadavg)" >>"$LAB/samples"
	# CPU over the last second (top's second pass), not since each process started
	{ echo "minute $m (load $(loadavg)):"; top -b -n 2 -d 1 -w 160 -o %CPU 2>/dev/null |
		awk '/^top -/ { n++ } n == 2' | sed -n '7,16p'; } >>"$OUT/others.txt"
done
wait "${GEN[@]}" 2>/dev/null

# p50/p99 of the minute over every generator's answers (nearest rank; piclab-load --latencies)
pctl() {
	awk -v m="$1" '$1 == m { print $2 }' "$LAB"/lat-*.txt | sort -n |
		awk '{ v[NR] = $1 } END {
			if (!NR) { print "0 0"; exit }
			r50 = int(0.50 * NR + 0.999999); r99 = int(0.99 * NR + 0.999999)
			printf "%.2f %.2f\n", v[r50 ? r50 : 1] / 1000, v[r99 ? r99 : 1] / 1000 }'
}

# rows: tx/s and errors summed over the generators; p50/p99 over all their answers
{
	echo "soak — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, workers=$WORKERS, $MIN min at $RATE tx/s ($RATE_WHY)"
	echo "$CONNS connections from ${PROVS[*]} (MESSAGE 60%, SUBSCRIBE 20%, NOTIFY 20%); p50/p99: every answer of the minute;"
	echo "audit_pend: the most audit records accepted and not yet committed (all workers, sampled every 5 s); audit_busy: the writers' share of the minute in transactions"
	printf '%-6s %-8s %-10s %-10s %-9s %-6s %-11s %-10s %-10s %-8s %s\n' min tx/s p50_ms p99_ms RSS_kB fds audit_db_kB audit_pend audit_busy errors "load average"
	for ((m = 1; m <= MIN; m++)); do
		tps=0 errs=0
		for f in "$LAB"/gen-*.out; do
			l=$(grep '^interval' "$f" | sed -n "${m}p")
			[ -n "$l" ] || continue
			tps=$(awk -v a="$tps" -v b="$(field "$l" tps)" 'BEGIN { print a + b }')
			errs=$((errs + $(field "$l" errors) + $(field "$l" timeouts)))
		done
		read -r p50 p99 < <(pctl "$m")
		read -r _ rss fds db depth busy l1 l5 l15 < <(sed -n "${m}p" "$LAB/samples")
		printf '%-6s %-8s %-10s %-10s %-9s %-6s %-11s %-10s %-10s %-8s %s\n' "$m" "$tps" \
			"$p50" "$p99" "$rss" "$fds" "$db" "$depth" "$busy%" "$errs" "$l1 $l5 $l15"
	done
} >"$OUT/soak.txt"
cat "$OUT/soak.txt"

# the verdict: minute 2 against the last
awk -v out="$OUT/soak.svg" '
	NR > 4 { n++; m[n] = $1; tps[n] = $2; p99[n] = $4; rss[n] = $5; depth[n] = $8; errs[n] = $10 }
	function chart(y0, title, v, unit,   i, mx, x, y, pts) {
		mx = 0
		for (i = 1; i <= n; i++) if (v[i] + 0 > mx) mx = v[i] + 0
		if (mx == 0) mx = 1
		printf "<text x=\"10\" y=\"%d\" font-size=\"13\">%s (max %s %s)</text>\n", y0 - 85, title, mx, unit > out
		printf "<line x1=\"60\" y1=\"%d\" x2=\"760\" y2=\"%d\" stroke=\"#999\"/>\n", y0, y0 > out
		pts = ""
		for (i = 1; i <= n; i++) {
			x = 60 + (n > 1 ? (i - 1) * 700 / (n - 1) : 0)
			y = y0 - v[i] / mx * 70
			pts = pts sprintf("%.1f,%.1f ", x, y)
		}
		printf "<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" points=\"%s\"/>\n", pts > out
	}
	END {
		printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"440\" font-family=\"sans-serif\">\n" > out
		printf "<rect width=\"800\" height=\"440\" fill=\"white\"/>\n" > out
		chart(100, "tx/s", tps, "tx/s"); chart(200, "p99 (all answers)", p99, "ms")
		chart(300, "RSS (PSS of master and workers)", rss, "kB"); chart(400, "audit records pending (most of the minute)", depth, "")
		printf "<text x=\"60\" y=\"435\" font-size=\"11\">minute 1 .. %d</text>\n</svg>\n", n > out
		if (n < 2) { print "verdict: too short"; exit }
		r = (rss[n] - rss[2]) / (rss[2] ? rss[2] : 1) * 100
		p = (p99[n] - p99[2]) / (p99[2] ? p99[2] : 1) * 100
		for (i = 2; i <= n; i++) e += errs[i]
		printf "verdict: %s — RSS minute 2 -> %d: %s -> %s kB (%+.1f%%), p99 %s -> %s ms (%+.1f%%); flat means both within 10%%\n",
			(r <= 10 && r >= -10 && p <= 10 && p >= -10) ? "FLAT" : "NOT FLAT", n, rss[2], rss[n], r, p99[2], p99[n], p
		printf "also: audit records pending minute 2 -> %d: %s -> %s; errors and timeouts from minute 2 on: %d\n",
			n, depth[2], depth[n], e
	}' "$OUT/soak.txt" | tee -a "$OUT/soak.txt"
echo "table: $OUT/soak.txt, plot: $OUT/soak.svg, the machine's busiest processes each minute: $OUT/others.txt"
ap_stop
exit 0
