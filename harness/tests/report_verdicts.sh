#!/usr/bin/env bash
# The compliance report's content, from a real run of fixture scenarios in lab 151 against
# accessproxy with the minimal PICS: each TTCN-3-like verdict (pass, fail, inconc, error, skip,
# n/a) kept distinct in results.json, junit.xml and index.html; the n/a scenario not run; the
# identity, PICS and PIXIT sections; the JUnit file valid against reports/junit.xsd; the evidence
# of the failure pointing at a real SIP frame; then --repeat marking a flaky scenario.
set -u
BUILD=${BUILD:-build}
root=${PICLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
name=report_verdicts.sh
. "$root/harness/tests/report_lib.bash"
piclab="$root/$BUILD/bin/piclab"
fx="$root/scenarios/fixtures/report"
tmp=$(mktemp -d /tmp/piclab-report.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$piclab" run -j1 --lab 151 --seed 4242 --out "$tmp/a" --pics "$root/reports/pics/minimal.pics" \
	"$fx/pass.lua" "$fx/fail.lua" "$fx/inconc.lua" "$fx/skip.lua" "$fx/error.lua" "$fx/na.lua" \
	>"$tmp/a.log" 2>&1
rc=$?
run=$(readlink -f "$tmp/a/latest")
j="$run/results.json"
check "piclab exits 2 (a harness error among the verdicts; got $rc)" '[ "$rc" = 2 ]'
check "the terminal shows inconc and n/a apart" \
	'grep -q "^inconc fixtures/report/inconc" "$tmp/a.log" && grep -q "^n/a   fixtures/report/na" "$tmp/a.log" &&
	 grep -q "1 inconc, 1 n/a" "$tmp/a.log"'
for v in pass fail inconc skip error; do
	check "results.json: fixtures/report/$v has verdict $v" \
		'[ "$(lj "$j" "S(\"fixtures/report/$v\").verdict")" = "$v" ]'
done
check "results.json: the INVITE fixture is n/a, naming IM-002 and the PICS item" \
	'[ "$(lj "$j" "S(\"fixtures/report/na\").verdict")" = "n/a" ] &&
	 lj "$j" "S(\"fixtures/report/na\").reason" | grep -q "IM-002 is conditional on PICS item INVITE"'
check "the n/a scenario did not run (no lab folder)" '[ ! -e "$run/fixtures.report.na" ]'
check "results.json counts every verdict apart" \
	'[ "$(lj "$j" "string.format(\"%d%d%d%d%d%d\", r.counts.pass, r.counts.fail, r.counts.inconc, r.counts.error, r.counts.skip, r.counts[\"n/a\"])")" = 111111 ]'
check "the inconc reason is kept" \
	'lj "$j" "S(\"fixtures/report/inconc\").reason" | grep -q "stub DNS answered before the TTL"'
check "assertions are counted (pass: at least the MESSAGE's wait and expect_eq)" \
	'[ "$(lj "$j" "S(\"fixtures/report/pass\").assertions")" -ge 2 ]'

# identity
bi="$root/$BUILD/buildinfo"
check "identity: SUT binary, git hash and build flags from $BUILD/buildinfo" \
	'[ "$(lj "$j" r.identity.sut.binary)" = "$(readlink -f "$root/$BUILD/bin/accessproxy")" ] &&
	 [ "$(lj "$j" r.identity.sut.git)" = "$(sed -n "s/^git=//p" "$bi")" ] &&
	 [ "$(lj "$j" r.identity.sut.build_flags)" = "$(sed -n "s/^cflags=//p" "$bi")" ] &&
	 [ "$(lj "$j" r.identity.sut.version)" = "$(sed -n "s/^version=//p" "$bi")" ]'
check "identity: the SUT kind, and accessproxy's Timer F in the PIXIT" \
	'[ "$(lj "$j" r.identity.sut.kind)" = accessproxy ] &&
	 grep -q "<td>timer</td><td>accessproxy Timer F, non-INVITE transaction (ms)</td><td>32000</td>" "$run/index.html"'
check "identity: the SUT binary's sha256" \
	'[ "$(lj "$j" r.identity.sut.sha256)" = "$(sha256sum "$root/$BUILD/bin/accessproxy" | cut -d" " -f1)" ]'
check "identity: a config digest (64 hex digits)" \
	'lj "$j" r.identity.sut.config_digest | grep -Eq "^[0-9a-f]{64}$"'
check "identity: run id, seed, host, cores, start and end" \
	'[ "$(lj "$j" r.identity.run_id)" = "$(basename "$run")" ] && [ "$(lj "$j" r.identity.seed)" = 4242 ] &&
	 [ "$(lj "$j" r.identity.host)" = "$(hostname)" ] && [ "$(lj "$j" r.identity.cores)" = "$(nproc)" ] &&
	 lj "$j" r.identity.start | grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$" &&
	 lj "$j" "r.identity[\"end\"]" | grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"'
if head=$(git -C "$root" rev-parse HEAD 2>/dev/null); then
	check "identity: harness version and commit of the checkout the scenarios and reports came from, and piclab's build" \
		'[ "$(lj "$j" r.identity.harness.git)" = "$head" ] &&
		 [ "$(lj "$j" r.identity.harness.version)" = "$(git -C "$root" describe --always --dirty)" ] &&
		 [ "$(lj "$j" r.identity.harness.build)" = "$(sed -n "s/^version=//p" "$bi")" ]'
else
	check "identity: harness version (no git checkout: piclab's build)" \
		'[ "$(lj "$j" r.identity.harness.git)" = "$(sed -n "s/^git=//p" "$bi")" ]'
fi
check "identity in the index header and as junit properties" \
	'grep -q "<th>sut.build_flags</th>" "$run/index.html" && grep -q "<th>run.seed</th><td>4242</td>" "$run/index.html" &&
	 grep -q "<property name=\"sut.git\" value=\"$(sed -n "s/^git=//p" "$bi")\"/>" "$run/junit.xml" &&
	 grep -q "<property name=\"run.host\" value=\"$(hostname)\"/>" "$run/junit.xml"'

# PICS and PIXIT
check "PICS: the table says INVITE no, and the global statement" \
	'grep -q "<td>INVITE</td><td>o</td>.*<td class=\"na\">no</td>" "$run/index.html" &&
	 grep -q "All mandatory capabilities implemented: yes" "$run/index.html"'
check "PICS: IM-002 is n/a in the coverage matrix, with status c:INVITE" \
	'grep -q "<tr id=\"req-IM-002\" class=\"na\"><td class=\"rid\">IM-002</td><td>c:INVITE</td><td>n/a</td>" "$run/index.html"'
serial=$(openssl x509 -noout -serial -in "$run/pki/public-root.crt" | cut -d= -f2)
check "PIXIT: the public root's subject and serial ($serial), ports, the SUT's edges" \
	'grep -q "public-root</td><td>.*serial $serial" "$run/index.html" &&
	 grep -q "<td>port</td><td>SIP over TLS.*<td>5061</td>" "$run/index.html" &&
	 grep -q "<td>external.listen</td><td>127.77.L.4:5061</td>" "$run/index.html" &&
	 grep -q "<td>address</td><td>ap.contoso.test</td><td>127.77.151.4" "$run/index.html"'

# JUnit
check "junit.xml is valid against reports/junit.xsd" \
	'xmllint --noout --schema "$root/reports/junit.xsd" "$run/junit.xml" 2>"$tmp/xsd.err"'
check "junit: one suite (fixtures) with tests 6, failures 1, errors 1, skipped 3, assertions, timestamp" \
	'grep -Eq "<testsuite name=\"fixtures\" tests=\"6\" failures=\"1\" errors=\"1\" skipped=\"3\" assertions=\"[1-9][0-9]*\" time=\"[0-9.]+\" timestamp=\"[0-9T:-]+\" hostname=" "$run/junit.xml"'
check "junit: inconc and n/a are skipped with their verdict named, and as the verdict property" \
	'grep -q "<skipped message=\"inconc: " "$run/junit.xml" && grep -q "<skipped message=\"n/a: " "$run/junit.xml" &&
	 grep -q "<property name=\"verdict\" value=\"inconc\"/>" "$run/junit.xml"'
check "junit: requirement ids as properties" 'grep -q "<property name=\"requirement\" value=\"POL-001\"/>" "$run/junit.xml"'
# CI tools read attachment paths from the checkout, not from junit.xml's folder: a run outside
# the project (here /tmp) names absolute paths, each an existing file
check "junit: the failing scenario's capture attached by its absolute path" \
	'grep -q "^\[\[ATTACHMENT|$tmp/a/$(basename "$run")/fixtures.report.fail/capture.pcapng\]\]$" "$run/junit.xml"'
check "junit: every attachment names an existing file ($(grep -c "^\[\[ATTACHMENT|" "$run/junit.xml") of them)" \
	'[ "$(grep -c "^\[\[ATTACHMENT|/" "$run/junit.xml")" -ge 25 ] &&
	 sed -n "s/^\[\[ATTACHMENT|\(.*\)\]\]$/\1/p" "$run/junit.xml" | { ok=1; while IFS= read -r p; do [ -f "$p" ] || ok=0; done; [ "$ok" = 1 ]; }'
check "junit: no two testcases of one class attach files of the same name (Jenkins keeps one per class)" \
	'[ -z "$(awk "/<testcase /{match(\$0, /classname=\"[^\"]*\"/); c = substr(\$0, RSTART, RLENGTH)}
		/^\[\[ATTACHMENT\|/{n = \$0; sub(/^.*\//, \"\", n); print c, n}" "$run/junit.xml" | sort | uniq -d)" ] &&
	 grep -q "<testcase classname=\"piclab.fixtures.report.fail\" name=\"fixtures/report/fail\"" "$run/junit.xml"'

# evidence
fr=$(lj "$j" 'S("fixtures/report/fail").evidence.frame')
ix=$(lj "$j" 'S("fixtures/report/fail").evidence.index')
page="$run/pages/fixtures.report.fail.html"
check "evidence: the failing expectation names frame $fr, message #$ix" '[ "$fr" -gt 0 ] && [ "$ix" -gt 0 ]'
label=$(lj "$j" 'S("fixtures/report/fail").evidence.label')
wire=$(tshark -r "$run/fixtures.report.fail/capture.pcap" -o "tls.keylog_file:$run/fixtures.report.fail/keys.log" \
	-Y "frame.number==$fr && sip" -T fields -e sip.Method -e sip.Status-Code -e sip.CSeq.method \
	-e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport 2>/dev/null | head -1 |
	awk -F'\t' '{ if ($1 != "") printf "%s %s:%s → %s:%s", $1, $4, $5, $6, $7;
		else printf "%s (%s) %s:%s → %s:%s", $2, $3, $4, $5, $6, $7 }')
check "evidence: tshark decodes frame $fr as the same message ($wire)" '[ -n "$wire" ] && [ "$wire" = "$label" ]'
check "evidence: the page links frame $fr to the decoded message #$ix, open, with expected vs actual" \
	'grep -q "href=\"#msg-$ix\">frame $fr, message #$ix" "$page" &&
	 grep -q "<details id=\"msg-$ix\" class=\"msg evidence\" open><summary>#$ix frame $fr " "$page" &&
	 grep -q "<th>response to alice&#39;s MESSAGE</th><td>403</td><td>200</td>\|<th>response to alice.s MESSAGE</th><td>403</td><td>200</td>" "$page"'
check "evidence: the index links the failure to that message" \
	'grep -q "href=\"pages/fixtures.report.fail.html#msg-$ix\">frame $fr, message #$ix</a>" "$run/index.html"'

# exact evidence of Lua expectations: capture:expect with a count, expect_eq given the message
"$piclab" run -j1 --lab 151 --out "$tmp/c" "$fx/capture_fail.lua" "$fx/expect_msg.lua" >"$tmp/c.log" 2>&1
runc=$(readlink -f "$tmp/c/latest")
for n in capture_fail expect_msg; do
	fr=$(lj "$runc/results.json" "S(\"fixtures/report/$n\").evidence.frame")
	label=$(lj "$runc/results.json" "S(\"fixtures/report/$n\").evidence.label")
	wire=$(tshark -r "$runc/fixtures.report.$n/capture.pcap" -o "tls.keylog_file:$runc/fixtures.report.$n/keys.log" \
		-Y "frame.number==$fr && sip" -T fields -e sip.Method -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport \
		2>/dev/null | head -1 | awk -F'\t' '{ printf "%s %s:%s → %s:%s", $1, $2, $3, $4, $5 }')
	check "exact evidence of $n: frame $fr is the external-leg MESSAGE ($label)" \
		'[ "$(lj "$runc/results.json" "S(\"fixtures/report/$n\").evidence.exact")" = true ] &&
		 [ "$wire" = "$label" ] && printf "%s" "$label" | grep -q "^MESSAGE .*127.77.151.\(4\|10\):"'
done
check "expect_eq's message is the inward one (from sip.aol.test to the external edge)" \
	'lj "$runc/results.json" "S(\"fixtures/report/expect_msg\").evidence.label" | grep -q "^MESSAGE 127.77.151.10:[0-9]* → 127.77.151.4:5061$"'

check "evidence: the terminal names the frame too" \
	'grep -A3 "^fail  fixtures/report/fail" "$tmp/a.log" | grep -q "evidence: frame [0-9]* of capture.pcap (captured so far)" &&
	 grep -A3 "^fail  fixtures/report/capture_fail" "$tmp/c.log" | grep -q "evidence: frame [0-9]* of capture.pcap$"'

# --repeat: a scenario passing on odd runs only is flaky, never pass
export PICLAB_FLAKY_FILE="$tmp/flaky.count"
"$piclab" run -j1 --lab 151 --repeat 3 --out "$tmp/b" "$fx/flaky.lua" "$fx/pass.lua" >"$tmp/b.log" 2>&1
rc=$?
jb="$(readlink -f "$tmp/b/latest")/results.json"
check "--repeat 3: the flaky scenario ran 3 times (pass fail pass) and is reported flaky; exit 1 (got $rc)" \
	'[ "$rc" = 1 ] && grep -q "^flaky fixtures/report/flaky .*\[2/3 passed: pass fail pass\]" "$tmp/b.log" &&
	 [ "$(lj "$jb" "S(\"fixtures/report/flaky\").shown")" = flaky ] &&
	 [ "$(lj "$jb" "S(\"fixtures/report/pass\").shown")" = pass ]'
check "--repeat: junit reports the flaky one as a failure of type flaky" \
	'grep -q "<failure type=\"flaky\" message=\"flaky: 2 of 3 runs passed" "$(dirname "$jb")/junit.xml"'
if [ "$fails" != 0 ]; then tail -30 "$tmp/a.log"; cat "$tmp/xsd.err" 2>/dev/null | head; fi
finish
