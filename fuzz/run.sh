#!/usr/bin/env bash
# run.sh SECS TARGET...: runs each libFuzzer target SECS seconds, seeded from fuzz/corpus/<target>
# (new inputs go to build/fuzz/work/<target>, the repo's corpus is only read). Fails on any crash,
# leak, timeout or sanitizer report, naming the input; that input belongs in fuzz/regress/<target>/.
# FUZZ_BIN: where the fuzz_<target> binaries are. FUZZ_ARGS: extra libFuzzer flags.
set -u
secs=${1:?usage: run.sh SECS TARGET...}
shift
bin=${FUZZ_BIN:-build/fuzz/fuzz/lf}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_WORK:-$root/build/fuzz/work}
rc=0
total=0
for t in "$@"; do
	exe=$bin/fuzz_$t
	if [ ! -x "$exe" ]; then
		echo "fuzz: $t: no binary $exe (make fuzz-build)" >&2
		rc=1
		continue
	fi
	mkdir -p "$work/$t" "$work/crash" "$root/fuzz/corpus/$t"
	dict=()
	[ -f "$root/fuzz/dict/$t.dict" ] && dict=(-dict="$root/fuzz/dict/$t.dict")
	log=$work/$t.log
	# first every crash found so far, under clang's sanitizers (a UB the regress build's
	# compiler does not flag is still caught here)
	if compgen -G "$root/fuzz/regress/$t/*" >/dev/null; then
		if ! "$exe" -runs=1 "$root/fuzz/regress/$t"/* >"$work/$t.regress.log" 2>&1; then
			echo "fuzz: $t: FAILED on a regression input; log $work/$t.regress.log"
			grep -E '^(Running:|==[0-9]+==ERROR|SUMMARY)|runtime error' \
				"$work/$t.regress.log" | tail -4 | sed 's/^/  /'
			rc=1
			continue
		fi
	fi
	# -timeout: one input over 10 s is a hang; -rss_limit_mb: a leak or a blow-up is a failure
	"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/crash/$t-" "${dict[@]}" ${FUZZ_ARGS:-} \
		"$work/$t" "$root/fuzz/corpus/$t" >"$log" 2>&1
	st=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	total=$((total + ${execs:-0}))
	if [ $st -ne 0 ]; then
		echo "fuzz: $t: FAILED (exit $st) after ${execs:-?} runs; log $log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written|.*runtime error)' \
			"$log" | head -8 | sed 's/^/  /'
		echo "  keep the input: cp <artifact> fuzz/regress/$t/ (replayed by make unit)"
		rc=1
	else
		echo "fuzz: $t: ok, ${execs:-?} runs in ${secs}s"
	fi
done
echo "fuzz: $total runs in total"
exit $rc
