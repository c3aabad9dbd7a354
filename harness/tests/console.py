"""piclab lab's console driven through a pseudo-terminal, as a person would (see console.sh)."""
import os
import re
import subprocess
import sys
import tempfile
import time

import pexpect

root, piclab = sys.argv[1], sys.argv[2]
LAB = 22
fails = 0


def check(what, ok, detail=""):
    global fails
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else "\n" + detail))
    if not ok:
        fails += 1


tmp = tempfile.mkdtemp(prefix="piclab-console.")
# a root of its own, so :save writes there and not into the checkout
troot = os.path.join(tmp, "root")
os.makedirs(os.path.join(troot, "scenarios"))
for rel in ("scenarios/README.md", "scenarios/lib", "reports", "Makefile"):
    os.symlink(os.path.join(root, rel), os.path.join(troot, rel))
out = os.path.join(tmp, "out")
env = dict(os.environ, PICLAB_ROOT=troot)

c = pexpect.spawn(piclab, ["lab", "--lab", str(LAB), "-o", out], env=env, encoding="utf-8",
                  timeout=30, dimensions=(60, 220))
log = open(os.path.join(tmp, "console.log"), "w")
c.logfile_read = log


def step(line, want, what):
    c.sendline(line)
    try:
        c.expect(want)
        c.expect("lab> ")
        check(what, True)
        return True
    except pexpect.TIMEOUT:
        check(what, False, "console said: " + c.before[-1500:])
        return False


try:
    c.expect("lab> ")
    banner = c.before
    check("the banner names the users, a provider's address and the certificates",
          "alice@contoso.test" in banner and "127.77.%d.10" % LAB in banner and
          "sip.aol.test.crt" in banner and "enterprise-root.crt" in banner, banner)
    step('alice = lab.enterprise:user("alice@contoso.test")', "", "alice")
    step('bob = lab.provider("aol"):user("bob@aol.test")', "", "bob")
    # Tab completes the method name from the User class
    c.send("alice:send_mes\t")
    time.sleep(0.5)
    c.send('(bob, "hello from the console")\r')
    for leg, src, dst, what in (("internal", "pool.contoso.test", "ap-int.contoso.test", "MESSAGE"),
                                ("external", "ap.contoso.test", "sip.aol.test", "MESSAGE"),
                                ("external", "sip.aol.test", "ap.contoso.test", r"200 \(MESSAGE\)")):
        try:
            c.expect(r"\d\d:\d\d:\d\d\.\d{3} %s\s+%s -> %s\s+%s\s+[0-9a-f]{8}" %
                     (leg, re.escape(src), re.escape(dst), what))
            check("ladder line: %s %s -> %s %s" % (leg, src, dst, what), True)
        except pexpect.TIMEOUT:
            check("ladder line: %s %s -> %s %s" % (leg, src, dst, what), False, c.before[-1500:])
    try:
        c.expect(r"200\s+OK")
        c.expect("lab> ")
        check("the completed call alice:send_message returned 200 OK", True)
    except pexpect.TIMEOUT:
        check("the completed call alice:send_message returned 200 OK", False, c.before[-1500:])
    step('bob:expect_message{ from = alice, contains = "hello from the console" }', "table",
         "bob got the MESSAGE")
    step('expect_eq(1, 2, "on purpose")', r"fail: console:1: on purpose: expected 2, got 1",
         "a failing step says expected vs actual")
    # a wait interrupted by Ctrl-C; the lab (and the proxy) stay up
    c.sendline("bob:expect_message{ from = alice, timeout = 60 }")
    time.sleep(1.5)
    c.sendintr()
    try:
        c.expect("interrupted while waiting for")
        c.expect("lab> ")
        check("Ctrl-C interrupts a wait", True)
    except pexpect.TIMEOUT:
        check("Ctrl-C interrupts a wait", False, c.before[-1500:])
    # Ctrl-C at the prompt only clears the line
    c.sendintr()
    try:
        c.expect(r"\(:quit or Ctrl-D stops the lab\)")
        check("Ctrl-C at the prompt keeps the lab", True)
    except pexpect.TIMEOUT:
        check("Ctrl-C at the prompt keeps the lab", False, c.before[-1500:])
    step('alice:send_message(bob, "still there")', r"200\s+OK",
         "the proxy survived both Ctrl-C (it is not in the terminal's process group)")
    step('bob:expect_message{ from = alice, contains = "still there" }', "table",
         "bob got the second MESSAGE")

    # the lab index is taken while this lab is up
    r = subprocess.run([piclab, "lab", "--lab", str(LAB), "-o", out], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    check("a second piclab lab --lab %d is refused, naming the holder (exit %d)" % (LAB, r.returncode),
          r.returncode == 2 and ("lab %d (127.77.%d.0/24) is in use by pid %d: " % (LAB, LAB, c.pid))
          in r.stderr and "piclab lab" in r.stderr, r.stderr)
    r = subprocess.run([piclab, "run", "-j1", "--lab", str(LAB), "-o", out,
                        os.path.join(root, "scenarios/smoke/message_both_ways.lua")],
                       env=dict(os.environ, PICLAB_ROOT=root), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120)
    check("piclab run --lab %d moves to the next free index and says so" % LAB,
          r.returncode == 0 and ("lab %d (127.77.%d.0/24) is in use by pid %d" % (LAB, LAB, c.pid))
          in r.stdout and "1 passed, 0 failed" in r.stdout, r.stdout + r.stderr)

    step(":save recorded/console_message", r"saved \d+ steps? to", ":save")
    c.sendline(":quit")
    c.expect("stopping lab %d" % LAB)
    c.expect(pexpect.EOF)
    c.close()
    check("the console quits cleanly (exit %s)" % c.exitstatus, c.exitstatus == 0)
except (pexpect.TIMEOUT, pexpect.EOF) as e:
    check("the console session", False, "%s\n%s" % (type(e).__name__, (c.before or "")[-2000:]))
    c.terminate(force=True)

saved = os.path.join(troot, "scenarios/recorded/console_message.lua")
text = open(saved).read() if os.path.exists(saved) else ""
check("the saved scenario holds the steps that passed, not the failed or interrupted ones",
      'alice:send_message(bob, "hello from the console")' in text and "on purpose" not in text
      and "timeout = 60" not in text and "covers = { }" in text, text)
r = subprocess.run([piclab, "run", "-j1", "--lab", str(LAB), "-o", out, saved], env=env,
                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
check("piclab run passes the saved scenario (exit %d)" % r.returncode,
      r.returncode == 0 and "1 passed, 0 failed" in r.stdout, r.stdout + r.stderr)
log.close()
if fails:
    print("console log: " + os.path.join(tmp, "console.log"))
    print("console: %d failed" % fails)
else:
    subprocess.run(["rm", "-rf", tmp])
    print("console: all passed")
sys.exit(1 if fails else 0)
