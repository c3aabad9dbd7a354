#!/usr/bin/env bash
# Mutation run (make mutants): builds every accessproxy mutant of harness/mutants.tsv (one rule
# bent, -DAP_MUTANT_<NAME>), runs first the scenarios covering the requirement ids it declares,
# and the whole suite only when none of those kills it. Prints mutant -> killed by -> ids and
# ends with "mutation score K of N"; writes reports/out/mutants/<stamp>/results.json (and
# results.tsv), "latest" pointing at it, for the HTML report. Exit 0 when every mutant is killed.
#
# usage: harness/mutate.sh [-j LABS] [--lab L] [--no-suite] [NAME...]
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
jobs=2 lab=50 suite=1 only=()
while [ $# -gt 0 ]; do
	case "$1" in
	-j) jobs=$2; shift 2 ;;
	--lab) lab=$2; shift 2 ;;
	--no-suite) suite=0; shift ;;
	-h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "mutate.sh: unknown option $1" >&2; exit 2 ;;
	*) only+=("$1"); shift ;;
	esac
done
piclab="$root/$BUILD/bin/piclab"
table="$root/harness/mutants.tsv"
[ -x "$piclab" ] || { echo "mutate.sh: $piclab is not built (make all)" >&2; exit 2; }
stamp=$(date -u +%Y%m%d-%H%M%S)
out="$root/reports/out/mutants/$stamp"
# the labs' folders hold control sockets (at most 107 bytes of path): runs go to a short path,
# their results.json and logs are kept under $out
runs=$(mktemp -d /tmp/pmut.XXXXXX) || exit 2
trap 'rm -rf "$runs"' EXIT
mkdir -p "$out" || exit 2
ln -sfn "$stamp" "$root/reports/out/mutants/latest"
printf 'name\treqs\tstatus\tkilled_by\tkilled_reqs\tphase\tseconds\tfile\twhat\n' >"$out/results.tsv"

# The scenarios of one run that failed, comma separated, then "|" and the requirement ids they
# cover (an error is the lab's problem, not a kill: only a scenario's fail verdict kills).
killers() {
	lua5.4 - "$1" <<'LUA'
		local cjson = require("cjson")
		local f = io.open(arg[1]) if not f then os.exit(0) end
		local r = cjson.decode(f:read("a")) f:close()
		local k, ids, seen = {}, {}, {}
		for _, s in ipairs(r.scenarios) do
			if s.verdict == "fail" then
				k[#k + 1] = s.name
				for _, id in ipairs(s.covers or {}) do
					if not seen[id] then seen[id] = true ids[#ids + 1] = id end
				end
			end
		end
		io.write(table.concat(k, ","), "|", table.concat(ids, ","))
LUA
}

t_all=$(date +%s)
n=0 killed=0
while IFS=$'\t' read -r name reqs file what; do
	case "$name" in ''|'#'*|name) continue ;; esac
	if [ ${#only[@]} -gt 0 ] && ! printf '%s\n' "${only[@]}" | grep -qx "$name"; then continue; fi
	n=$((n + 1))
	t0=$(date +%s)
	bin="$root/$BUILD/mutants/$name/bin/accessproxy"
	if ! make --no-print-directory -j2 mutant MUTANT="$name" >"$out/$name.build.log" 2>&1; then
		status=build-failed by="" ids="" phase=build
	else
		reqargs=()
		IFS=',' read -ra ids <<<"$reqs"
		for id in "${ids[@]}"; do reqargs+=(--req "$id"); done
		"$piclab" run -j "$jobs" --lab "$lab" --sut "$bin" -o "$runs/$n.c" \
			"${reqargs[@]}" scenarios >"$out/$name.covers.log" 2>&1
		cp "$runs/$n.c/latest/results.json" "$out/$name.covers.json" 2>/dev/null
		k=$(killers "$out/$name.covers.json"); by=${k%%|*} ids=${k#*|}
		phase=covers
		if [ -z "$by" ] && [ "$suite" = 1 ]; then
			"$piclab" run -j "$jobs" --lab "$lab" --sut "$bin" -o "$runs/$n.s" \
				scenarios >"$out/$name.suite.log" 2>&1
			cp "$runs/$n.s/latest/results.json" "$out/$name.suite.json" 2>/dev/null
			k=$(killers "$out/$name.suite.json"); by=${k%%|*} ids=${k#*|}
			phase=suite
		fi
		rm -rf "$runs/$n.c" "$runs/$n.s"
		if [ -n "$by" ]; then status=killed; killed=$((killed + 1)); else status=survived; fi
	fi
	secs=$(( $(date +%s) - t0 ))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$reqs" "$status" "$by" "$ids" "$phase" \
		"$secs" "$file" "$what" >>"$out/results.tsv"
	printf '%-34s %-8s %-6s %4ss  %s -> %s\n' "$name" "$status" "$phase" "$secs" "${by:--}" "$reqs"
done <"$table"

# results.json for the report: the same rows
lua5.4 - "$out/results.tsv" "$out/results.json" "$killed" "$n" <<'LUA'
	local cjson = require("cjson")
	local rows, head = {}, nil
	for line in io.lines(arg[1]) do
		local f = {}
		for v in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = v end
		if not head then head = f else
			local r = {}
			for i, k in ipairs(head) do r[k] = f[i] end
			r.seconds = tonumber(r.seconds)
			local function list(s) local t = {} for w in s:gmatch("[^,]+") do t[#t + 1] = w end return t end
			r.reqs, r.killed_by, r.killed_reqs = list(r.reqs), list(r.killed_by), list(r.killed_reqs)
			rows[#rows + 1] = r
		end
	end
	local f = io.open(arg[2], "w")
	f:write(cjson.encode({ format = "piclab-mutants/1", score = tonumber(arg[3]),
		total = tonumber(arg[4]), mutants = rows }))
	f:close()
LUA
echo "results: $out/results.tsv, results.json ($(( $(date +%s) - t_all )) s)"
echo "mutation score $killed of $n"
[ "$killed" = "$n" ]
