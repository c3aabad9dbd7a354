#!/usr/bin/env bash
# junit.xml as CI tools read it, without a lab (reports/synth.lua renders a run with the real
# renderers): valid against reports/junit.xsd, and every [[ATTACHMENT|path]] line names a file
# that exists where Jenkins (junit-attachments: from the workspace) and GitLab (from
# CI_PROJECT_DIR) look for it: relative to the project root for a run folder inside the project,
# absolute for one outside it; the harness version is the checkout's. A real run's attachments
# are checked by report_verdicts.sh.
set -u
BUILD=${BUILD:-build}
root=${PICLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
name=report_junit.sh
. "$root/harness/tests/report_lib.bash"
tmp=$(mktemp -d /tmp/piclab-junit.XXXXXX)
inside=$(mktemp -d "$root/$BUILD/piclab-junit.XXXXXX")
trap 'rm -rf "$tmp" "$inside"' EXIT

attachments() { sed -n 's/^\[\[ATTACHMENT|\(.*\)\]\]$/\1/p' "$1"; }
# every attachment of FILE exists when read from the project root; prints the count
all_exist() {
	local n=0 p
	while IFS= read -r p; do
		(cd "$root" && [ -f "$p" ]) || { echo "missing: $p" >&2; return 1; }
		n=$((n + 1))
	done < <(attachments "$1")
	echo "$n"
}

lua5.4 "$root/reports/synth.lua" "$root" "$inside/run" 12 >/dev/null 2>"$tmp/in.err"
j="$inside/run/junit.xml"
rel=${inside#"$root"/}
check "junit.xml of a run inside the project is valid against reports/junit.xsd" \
	'xmllint --noout --schema "$root/reports/junit.xsd" "$j" 2>"$tmp/xsd.err"'
check "inside the project: each scenario's page is attached, relative to the project root ($rel/run/pages/...)" \
	'[ "$(attachments "$j" | grep -c "^$rel/run/pages/[a-z]*\.synthetic_[0-9]*\.html$")" = 12 ]'
check "inside the project: no attachment path is absolute" '! attachments "$j" | grep -q "^/"'
check "inside the project: every attachment exists, read from the project root" '[ "$(all_exist "$j")" = 12 ]'
check "files a scenario did not leave (no capture in a synthetic run) are not attached" \
	'! attachments "$j" | grep -q "capture.pcapng\|sut.log"'

lua5.4 "$root/reports/synth.lua" "$root" "$tmp/run" 12 >/dev/null 2>"$tmp/out.err"
j="$tmp/run/junit.xml"
check "outside the project: the attachments are absolute paths to the pages" \
	'[ "$(attachments "$j" | grep -c "^$tmp/run/pages/[a-z]*\.synthetic_[0-9]*\.html$")" = 12 ]'
check "outside the project: every attachment exists" '[ "$(all_exist "$j")" = 12 ]'
# the harness version is the checkout's: piclab reads the reports and scenarios from it at run time
if head=$(git -C "$root" rev-parse HEAD 2>/dev/null); then
	check "identity: harness.git and harness.version are the checkout's ($head), in results.json and junit" \
		'[ "$(lj "$tmp/run/results.json" r.identity.harness.git)" = "$head" ] &&
		 [ "$(lj "$tmp/run/results.json" r.identity.harness.version)" = "$(git -C "$root" describe --always --dirty)" ] &&
		 grep -q "<property name=\"harness.git\" value=\"$head\"/>" "$j"'
fi
[ "$fails" = 0 ] || { head -5 "$tmp/xsd.err" "$tmp/in.err" "$tmp/out.err"; attachments "$inside/run/junit.xml" | head -3; }
finish
