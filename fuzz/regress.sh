#!/usr/bin/env bash
# regress.sh BUILD [TARGET...]: replays every crash ever found (fuzz/regress/<target>/*) and the
# minimised corpus (fuzz/corpus/<target>/*) through each fuzz target's entry point, built without
# libFuzzer ($BUILD/fuzz/fuzz_<target>; with SANITIZE=1 under ASan+UBSan). Fails when an input
# crashes, or a sanitizer reports anything, naming the input.
set -u
build=${1:?usage: regress.sh BUILD [TARGET...]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
targets=${*:-sip proxy capdec provform csv conf}
rc=0
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
for t in $targets; do
	exe=$build/fuzz/fuzz_$t
	if [ ! -x "$exe" ]; then
		echo "regress: $t: no binary $exe (make tests-build)" >&2
		rc=1
		continue
	fi
	n=0
	bad=0
	for dir in "$root/fuzz/regress/$t" "$root/fuzz/corpus/$t"; do
		[ -d "$dir" ] || continue
		# in batches: one process per input would take minutes for a large corpus
		mapfile -d '' files < <(find "$dir" -type f -print0 | sort -z)
		[ ${#files[@]} -gt 0 ] || continue
		for ((i = 0; i < ${#files[@]}; i += 200)); do
			chunk=("${files[@]:i:200}")
			out=$("$exe" "${chunk[@]}" 2>&1)
			st=$?
			n=$((n + ${#chunk[@]}))
			if [ $st -ne 0 ] || grep -qE 'runtime error|ERROR: (Address|Leak|Undefined)' \
				<<<"$out"; then
				bad=1
				# name the input: replay the batch one by one
				for f in "${chunk[@]}"; do
					o=$("$exe" "$f" 2>&1)
					s=$?
					if [ $s -ne 0 ] || grep -qE 'runtime error|ERROR: (Address|Leak|Undefined)' \
						<<<"$o"; then
						echo "regress: $t: FAILED on ${f#$root/} (exit $s)"
						grep -E 'runtime error|ERROR:|SUMMARY' <<<"$o" | head -4 | sed 's/^/  /'
					fi
				done
			fi
		done
	done
	if [ $bad -ne 0 ]; then
		rc=1
	else
		echo "regress: $t: $n inputs ok"
	fi
done
exit $rc
