#!/usr/bin/env bash
# merge.sh TARGET...: minimises fuzz/corpus/<target> plus what 'make fuzz' found
# (build/fuzz/work/<target>) into a new fuzz/corpus/<target>: the fewest, smallest inputs that
# keep every feature (libFuzzer -merge=1). Inputs over 64 KB are left out to keep the repo small.
set -eu
bin=${FUZZ_BIN:-build/fuzz/fuzz/lf}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_WORK:-$root/build/fuzz/work}
for t in "$@"; do
	new=$work/$t.merged
	rm -rf "$new"
	mkdir -p "$new" "$work/$t" "$root/fuzz/corpus/$t"
	"$bin/fuzz_$t" -merge=1 -max_len=65536 -timeout=10 "$new" "$root/fuzz/corpus/$t" \
		"$work/$t" >"$work/$t.merge.log" 2>&1
	rm -rf "$root/fuzz/corpus/$t"
	mv "$new" "$root/fuzz/corpus/$t"
	echo "fuzz-merge: $t: $(ls "$root/fuzz/corpus/$t" | wc -l) inputs," \
		"$(du -sk "$root/fuzz/corpus/$t" | cut -f1) KB"
done
