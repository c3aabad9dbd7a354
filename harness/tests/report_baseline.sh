#!/usr/bin/env bash
# Baselines: `piclab compare A B` classifies each scenario (pass, FAIL, fail, fixed, new-pass,
# new-fail, xfail, xfail->PASS, flaky, removed) from two results files and exits 1 only on
# regressions; then `piclab run --baseline` in lab 152 shows the categories in the terminal, the
# report and junit, and an expected failure does not fail the run.
set -u
BUILD=${BUILD:-build}
root=${PICLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
name=report_baseline.sh
. "$root/harness/tests/report_lib.bash"
piclab="$root/$BUILD/bin/piclab"
fx="$root/scenarios/fixtures/report"
tmp=$(mktemp -d /tmp/piclab-baseline.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

sc() { printf '{"name":"%s","verdict":"%s","runs":%s,"runs_passed":%s}' "$1" "$2" "${3:-1}" "${4:-0}"; }
cat >"$tmp/A.json" <<JSON
{"scenarios":[$(sc a/pass pass),$(sc a/reg pass),$(sc a/fixed fail),$(sc a/still fail),
 $(sc a/x fail),$(sc a/xp fail),$(sc a/gone pass),$(sc a/na n/a),$(sc a/err pass)]}
JSON
cat >"$tmp/B.json" <<JSON
{"scenarios":[$(sc a/pass pass),$(sc a/reg fail),$(sc a/fixed pass),$(sc a/still fail),
 $(sc a/x fail),$(sc a/xp pass),$(sc a/newp pass),$(sc a/newf fail),$(sc a/flaky fail 3 2),
 $(sc a/na pass),$(sc a/err error),$(sc a/inc inconc)]}
JSON
printf '# expected failures\na/x\tknown bug: x times out\na/xp  known bug: xp answers 500\n' >"$tmp/xfail"
"$piclab" compare "$tmp/A.json" "$tmp/B.json" --xfail "$tmp/xfail" >"$tmp/c.out" 2>&1
rc=$?
check "compare exits 1 on regressions (got $rc)" '[ "$rc" = 1 ]'
want() { check "compare: $1 is $2" "grep -Eq '^$(printf '%s' "$2" | sed 's/[>-]/[&]/g') +$1( |\$)' '$tmp/c.out'"; }
want a/reg "FAIL"
want a/fixed "fixed"
want a/still "fail"
want a/x "xfail"
want a/xp "xfail->PASS"
want a/gone "removed"
want a/newp "new-pass"
want a/newf "new-fail"
want a/flaky "flaky"
want a/na "new-pass"
want a/err "error"
want a/inc "inconc"
check "compare: an unchanged pass is not listed, the summary counts it" \
	'! grep -q " a/pass" "$tmp/c.out" && grep -q "1 pass" "$tmp/c.out"'
check "compare: the expected failure's reason is shown" 'grep -q "a/x .*known bug: x times out" "$tmp/c.out"'
check "compare: 5 regressions (FAIL, new-fail, fail, error, flaky)" 'grep -q "; 5 regressions" "$tmp/c.out"'

cat >"$tmp/C.json" <<JSON
{"scenarios":[$(sc a/pass pass),$(sc a/fixed pass),$(sc a/x fail),$(sc a/xp pass)]}
JSON
"$piclab" compare "$tmp/A.json" "$tmp/C.json" --xfail "$tmp/xfail" >"$tmp/c2.out" 2>&1
rc=$?
check "compare exits 0 when only xfail, xfail->PASS, fixed and removed (got $rc)" '[ "$rc" = 0 ]'
printf 'a/x\n' >"$tmp/xfail.bad"
"$piclab" compare "$tmp/A.json" "$tmp/C.json" --xfail "$tmp/xfail.bad" >"$tmp/c3.out" 2>&1
rc=$?
check "an expected failure without a reason is refused, naming file and line (rc $rc)" \
	'[ "$rc" = 2 ] && grep -q "xfail.bad:1: .a/x. has no reason" "$tmp/c3.out"'
"$piclab" compare "$tmp/nothing" "$tmp/C.json" >"$tmp/c4.out" 2>&1
rc=$?
check "a missing baseline is refused clearly (rc $rc)" '[ "$rc" = 2 ] && grep -q "nothing: neither a run folder" "$tmp/c4.out"'

# PICS files with mistakes are refused, naming file, line and the mistake (no lab needed: list)
printf 'sut x\nFOO yes\n' >"$tmp/p1.pics"
"$piclab" list --pics "$tmp/p1.pics" "$fx/pass.lua" >"$tmp/p1.out" 2>&1
rc=$?
check "PICS: an unknown item is refused with file:line (rc $rc)" \
	'[ "$rc" = 2 ] && grep -q "p1.pics:2: unknown PICS item .FOO." "$tmp/p1.out"'
sed 's/^INVITE.*/INVITE maybe/' "$root/reports/pics/minimal.pics" >"$tmp/p2.pics"
"$piclab" list --pics "$tmp/p2.pics" "$fx/pass.lua" >"$tmp/p2.out" 2>&1
rc=$?
check "PICS: an answer other than yes/no is refused (rc $rc)" \
	'[ "$rc" = 2 ] && grep -q "p2.pics:[0-9]*: INVITE must be answered yes or no, not .maybe." "$tmp/p2.out"'
grep -v "^ARCHIVING" "$root/reports/pics/minimal.pics" >"$tmp/p3.pics"
"$piclab" list --pics "$tmp/p3.pics" "$fx/pass.lua" >"$tmp/p3.out" 2>&1
rc=$?
check "PICS: an unanswered item is refused (rc $rc)" \
	'[ "$rc" = 2 ] && grep -q "p3.pics: PICS item ARCHIVING is not answered" "$tmp/p3.out"'
"$piclab" list --pics "$root/reports/pics/minimal.pics" "$fx/na.lua" "$fx/pass.lua" >"$tmp/p4.out" 2>&1
check "list shows the scenarios the PICS makes n/a" \
	'grep -q "^fixtures/report/na.*N/A: IM-002 is conditional on PICS item INVITE" "$tmp/p4.out" &&
	 ! grep -q "^fixtures/report/pass.*N/A" "$tmp/p4.out"'

sed 's/^TLS12.*/TLS12 no/' "$root/reports/pics/minimal.pics" >"$tmp/p5.pics"
lua5.4 "$root/reports/synth.lua" "$root" "$tmp/synth" 12 "$tmp/p5.pics" >/dev/null 2>"$tmp/p5.err"
check "PICS: a mandatory item answered no makes the statement no, naming it" \
	'grep -q "All mandatory capabilities implemented: no (missing: TLS12)" "$tmp/synth/index.html" &&
	 [ "$(lj "$tmp/synth/results.json" r.pics.mandatory_implemented)" = false ]'
lua5.4 "$root/reports/synth.lua" "$root" "$tmp/synth2" 12 >/dev/null 2>&1
check "PICS: accessproxy claims every mandatory item" \
	'grep -q "All mandatory capabilities implemented: yes" "$tmp/synth2/index.html"'

# run --baseline: fail.lua passed in the baseline -> FAIL, exit 1; listed as xfail -> exit 0
printf '{"scenarios":[%s,%s,%s]}\n' "$(sc fixtures/report/pass pass)" "$(sc fixtures/report/fail pass)" \
	"$(sc fixtures/report/gone pass)" >"$tmp/base.json"
"$piclab" run -j1 --lab 152 --out "$tmp/r1" --baseline "$tmp/base.json" "$fx/pass.lua" "$fx/fail.lua" >"$tmp/r1.log" 2>&1
rc=$?
run=$(readlink -f "$tmp/r1/latest")
check "run --baseline: the terminal shows FAIL (was pass) and removed; exit 1 (got $rc)" \
	'[ "$rc" = 1 ] && grep -q "^FAIL  *fixtures/report/fail (was pass)" "$tmp/r1.log" &&
	 grep -q "^removed  *fixtures/report/gone" "$tmp/r1.log"'
check "run --baseline: the report and results.json show the categories" \
	'grep -q "<h2 id=\"baseline\">" "$run/index.html" && grep -q ">FAIL</span></td><td><a href=\"pages/fixtures.report.fail.html\">" "$run/index.html" &&
	 [ "$(lj "$run/results.json" "S(\"fixtures/report/fail\").category")" = FAIL ] &&
	 [ "$(lj "$run/results.json" "S(\"fixtures/report/pass\").category")" = pass ] &&
	 grep -q "<property name=\"category\" value=\"FAIL\"/>" "$run/junit.xml"'
printf 'fixtures/report/fail  bug 99: the proxy answers 200 where 403 is due\n' >"$tmp/xf"
"$piclab" run -j1 --lab 152 --out "$tmp/r2" --baseline "$tmp/base.json" --xfail "$tmp/xf" "$fx/pass.lua" "$fx/fail.lua" >"$tmp/r2.log" 2>&1
rc=$?
check "run --baseline --xfail: the failure is xfail and the run exits 0 (got $rc)" \
	'[ "$rc" = 0 ] && grep -q "^xfail  *fixtures/report/fail .*bug 99" "$tmp/r2.log"'
"$piclab" run -j1 --lab 152 --out "$tmp/r4" --xfail "$tmp/xf" "$fx/pass.lua" "$fx/fail.lua" >"$tmp/r4.log" 2>&1
rc=$?
check "run --xfail without a baseline: xfail and new-pass, exit 0 (got $rc)" \
	'[ "$rc" = 0 ] && grep -q "^xfail  *fixtures/report/fail" "$tmp/r4.log" && grep -q "^new-pass  *fixtures/report/pass" "$tmp/r4.log"'
"$piclab" run -j1 --lab 152 --out "$tmp/r2" --baseline "$tmp/r2/latest" "$fx/pass.lua" >"$tmp/r3.log" 2>&1
rc=$?
check "run --baseline RUN_FOLDER (the latest link, moved by the run itself): removed is no regression (got $rc)" \
	'[ "$rc" = 0 ] && grep -q "^removed  *fixtures/report/fail" "$tmp/r3.log"'
# shards with an n/a scenario merge into one report that keeps the n/a verdict and the identity
for k in 1 2; do
	"$piclab" run -j1 --lab 152 --seed 3 --shard "$k/2" --pics "$root/reports/pics/minimal.pics" \
		--out "$tmp/sh$k" "$fx/na.lua" "$fx/pass.lua" >"$tmp/sh$k.log" 2>&1
done
"$piclab" merge -o "$tmp/merged" "$(readlink -f "$tmp/sh1/latest")" "$(readlink -f "$tmp/sh2/latest")" >"$tmp/merge.log" 2>&1
rc=$?
mj="$(readlink -f "$tmp/merged/latest")/results.json"
check "merge of shards with an n/a scenario: exit 0, n/a kept, identity carried (rc $rc)" \
	'[ "$rc" = 0 ] && [ "$(lj "$mj" "S(\"fixtures/report/na\").verdict")" = "n/a" ] &&
	 [ "$(lj "$mj" "S(\"fixtures/report/pass\").verdict")" = pass ] &&
	 [ "$(lj "$mj" r.identity.seed)" = 3 ] && [ -d "$(dirname "$mj")/pages" ]'
[ "$fails" = 0 ] || { cat "$tmp/c.out"; tail -5 "$tmp/r1.log"; }
finish
