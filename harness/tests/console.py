"""piclab lab's console driven through a pseudo-terminal, as a person would (see console.sh)."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pexpect

root, piclab = sys.argv[1], sys.argv[2]
LAB = int(os.environ.get("PICLAB_TEST_LAB", "22"))
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
# a home of its own: the console keeps its line history in ~/.piclab_history
env = dict(os.environ, PICLAB_ROOT=troot, HOME=tmp)


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# what a newcomer hits first says what to do next: not root, a port of the lab taken
# (their run folders apart: the ladder check below reads the console's capture from out)
pre = os.path.join(tmp, "out-refused")
# a copy of piclab that user nobody can reach wherever the checkout is
os.chmod(tmp, 0o711)
os.makedirs(os.path.join(tmp, "nobody"), mode=0o755)
shutil.copy(piclab, os.path.join(tmp, "nobody", "piclab"))
r = subprocess.run([os.path.join(tmp, "nobody", "piclab"), "lab", "--lab", str(LAB), "-o", pre],
                   env=env, user=65534,
                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
check("piclab lab as a user other than root says to use sudo (exit %d)" % r.returncode,
      r.returncode == 2 and "needs root" in r.stderr and "sudo build/bin/piclab lab" in r.stderr,
      r.stderr)
held = socket.socket()
held.bind(("127.77.%d.4" % LAB, 5061))
held.listen(1)
r = subprocess.run([piclab, "lab", "--lab", str(LAB), "-o", pre], env=env,
                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
held.close()
check("the proxy's port taken: piclab lab names its holder and what to do (exit %d)" % r.returncode,
      r.returncode == 2 and ("port 5061 of 127.77.%d.4 (ap.contoso.test) is held by pid %d "
                             % (LAB, os.getpid())) in r.stderr and "--lab N" in r.stderr, r.stderr)

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
    m = re.search(r"proxy:\s+pid (\d+),.*control socket (\S+),", banner)
    sut_pid, ctl = (int(m.group(1)), m.group(2)) if m else (0, "")
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
    step('bob:expect_message{ from = alice, contains = "hello from the console" }', r"body = ",
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
    step('bob:expect_message{ from = alice, contains = "still there" }', r"body = ",
         "bob got the second MESSAGE")

    step(":help send_message", r"user:send_message\(to, text\)`?\s+sends a page-mode MESSAGE",
         ":help WORD shows the API's rows from scenarios/README.md")
    c.sendline(":capture")
    try:
        c.expect(r"decoded:\s+\S+/piclab decode (\S+/console/capture\.pcap) "
                 r"(\S+/console/keys\.log)\r\n")
        shown = c.before + c.after
        files = [c.match.group(1), c.match.group(2)]
        c.expect("lab> ")
        check(":capture prints tshark and piclab decode commands for this lab's capture files",
              all(os.path.exists(p) for p in files) and
              ("tshark -i lo -f 'net 127.77.%d.0/24'" % LAB) in shown, shown[-1500:])
    except pexpect.TIMEOUT:
        check(":capture prints the piclab decode command", False, c.before[-1500:])
    # line editing: the Up arrow brings back the last line
    step("x = 41", "", "x = 41")
    step("x = x + 1", "", "x = x + 1")
    c.send("\x1b[A")
    time.sleep(0.3)
    c.send("\r")
    c.expect("lab> ")
    step("x", r"\r\n43\r\n", "the Up arrow recalled and ran x = x + 1 again")

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
    check(":quit stopped the proxy (pid %d) and removed the runtime folder (%s)" % (sut_pid, ctl),
          sut_pid > 0 and gone(sut_pid) and ctl and not os.path.exists(os.path.dirname(ctl)))
    hist = os.path.join(tmp, ".piclab_history")
    # libedit writes a space as \040
    hist_text = open(hist).read().replace("\\040", " ") if os.path.exists(hist) else ""
    check("the line history is kept in ~/.piclab_history",
          'alice:send_message(bob, "hello from the console")' in hist_text, hist_text)
except (pexpect.TIMEOUT, pexpect.EOF) as e:
    check("the console session", False, "%s\n%s" % (type(e).__name__, (c.before or "")[-2000:]))
    c.terminate(force=True)

# piclab ladder on the console's capture: an aligned ladder with the MESSAGE's arrows
cap = [os.path.join(dp, "capture.pcap") for dp, _, fs in os.walk(out)
       if dp.endswith("/console") and "capture.pcap" in fs]
if cap:
    r = subprocess.run([piclab, "ladder", cap[0], os.path.join(os.path.dirname(cap[0]), "keys.log")],
                       env=env, capture_output=True, text=True, timeout=60)
    lines = r.stdout.splitlines()
    check("piclab ladder draws the lifelines and the MESSAGE both ways",
          r.returncode == 0 and lines and "pool.contoso.test" in lines[0] and
          "sip.aol.test" in lines[0] and
          any(re.search(r"\|-+ MESSAGE -+>\|", l) for l in lines) and
          any(re.search(r"\|<-+ 200 \(MESSAGE\) -+\|", l) for l in lines), r.stdout + r.stderr)
else:
    check("the console left its capture", False)

# --script: a file of steps runs first; the lab stays up for the console afterwards
script = os.path.join(tmp, "steps.lua")
with open(script, "w") as f:
    f.write('carol = lab.enterprise:user("carol@contoso.test")\n'
            'dan = lab.provider("yahoo"):user("dan@yahoo.test")\n'
            'expect_eq(carol:send_message(dan, "from a script"), 200, "MESSAGE from the script")\n')
# and on a PATH without tshark (every other program of PATH kept), :capture says how to get it
notshark = os.path.join(tmp, "no-tshark")
os.makedirs(notshark)
for d in os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":"):
    for name in (os.listdir(d) if os.path.isdir(d) else []):
        if name != "tshark" and not os.path.lexists(os.path.join(notshark, name)):
            os.symlink(os.path.join(d, name), os.path.join(notshark, name))
c = pexpect.spawn(piclab, ["lab", "--lab", str(LAB), "-o", out, "--script", script],
                  env=dict(env, PATH=notshark), encoding="utf-8", timeout=30,
                  dimensions=(60, 220))
c.logfile_read = log
pid2 = 0
try:
    c.expect(r"proxy:\s+pid (\d+),")
    pid2 = int(c.match.group(1))
    c.expect(r"external\s+ap\.contoso\.test -> sip\.yahoo\.test\s+MESSAGE")
    c.expect("lab> ")
    check("--script runs the file and the console stays up", True)
    step('dan:expect_message{ from = carol, contains = "from a script" }', r"body = ",
         "the script's objects live on in the console")
    step(":capture", r"tshark is not installed: apt-get install tshark(.|\n)*TLS secrets for "
         r"Wireshark", ":capture without tshark says how to install it")
    time.sleep(0.5)  # the prompt is drawn again after each line :capture prints
except (pexpect.TIMEOUT, pexpect.EOF):
    check("--script runs the file and the console stays up", False, (c.before or "")[-1500:])
if c.isalive():
    c.sendeof()
    try:
        c.expect("stopping lab %d" % LAB)
        c.expect(pexpect.EOF)
        c.close()
        check("Ctrl-D stops the lab cleanly (exit %s), the proxy (pid %d) with it"
              % (c.exitstatus, pid2), c.exitstatus == 0 and pid2 > 0 and gone(pid2))
    except (pexpect.TIMEOUT, pexpect.EOF):
        check("Ctrl-D stops the lab", False, (c.before or "")[-1500:])
        c.terminate(force=True)

# a failed scenario on a terminal shows the end of its ladder with the verdict
failing = os.path.join(troot, "scenarios/recorded/fails_after_message.lua")
with open(failing, "w") as f:
    f.write('return scenario { title = "t", covers = { }, run = function(lab)\n'
            '  local a = lab.enterprise:user("alice@contoso.test")\n'
            '  a:send_message(lab.provider("msn"):user("max@msn.test"), "x")\n'
            '  expect_eq(1, 2, "on purpose")\nend }\n')
c = pexpect.spawn(piclab, ["run", "-j1", "--lab", str(LAB), "-o", out, failing], env=env,
                  encoding="utf-8", timeout=60, dimensions=(60, 220))
c.logfile_read = log
try:
    c.expect("on purpose: expected 2, got 1")
    c.expect("the last SIP messages")
    c.expect(r"\|<-+ 200 \(MESSAGE\) -+\|")
    c.expect(pexpect.EOF)
    check("a failed verdict on a terminal comes with the end of its ladder", True)
except (pexpect.TIMEOUT, pexpect.EOF):
    check("a failed verdict on a terminal comes with the end of its ladder", False,
          (c.before or "")[-1500:])

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
