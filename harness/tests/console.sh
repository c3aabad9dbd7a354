#!/bin/bash
# The console through a real pseudo-terminal (harness/tests/console.py, python3-pexpect): start
# `piclab lab`, send a MESSAGE from alice to bob and see its ladder lines, Tab completion,
# the Up arrow and the history file, Ctrl-C interrupting a wait, :help WORD, :capture, a lab
# index in use, :save, :quit and Ctrl-D (the proxy stops with the lab); then `piclab run`
# passes the saved scenario. Before that, what a newcomer hits says what to do: not root, the
# proxy's port taken. Lab 22 (and 23 for the run that moves on); PICLAB_TEST_LAB=N for another.
set -u
root=${PICLAB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
py=python3
$py -c 'import pexpect' 2>/dev/null || py=/usr/bin/python3
if ! $py -c 'import pexpect' 2>/dev/null; then
	echo "FAIL console: python3-pexpect is missing (make deps installs it)"
	exit 1
fi
exec $py "$root/harness/tests/console.py" "$root" "$root/$BUILD/bin/piclab"
