-- ROB-006 / AUD-004: killed with -9 right after a burst of traffic and restarted, the proxy has
-- lost no configuration and no acknowledged audit record, and serves again.
return scenario {
  title  = "kill -9 after a burst, restart: configuration and acknowledged audit records kept, serving again",
  covers = { "ROB-006", "AUD-004" },
  tags   = { "robustness", "audit", "workers" },
  timeout = 60,
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    alice:allow(bob)
    -- a configuration change and critical archiving (records durable before forwarding)
    local rc, out = lab:apctl("providers", "disallow", "msn")
    expect_eq(rc, 0, "apctl providers disallow msn (" .. out .. ")")
    rc, out = lab:apctl("settings", "set", "archive_critical", "yes")
    expect_eq(rc, 0, "apctl settings set archive_critical yes (" .. out .. ")")
    local n = 25
    for i = 1, n do
      expect_eq(alice:send_message(bob, "burst " .. i), 200, "MESSAGE " .. i .. " before the crash")
      bob:expect_message{ contains = "burst " .. i }
    end
    local old = lab.sut:pid()
    local new = lab.sut:restart{ signal = 9 }
    expect(new ~= old, "a new accessproxy process after the crash")

    rc, out = lab:apctl("--json", "providers", "list")
    expect_eq(rc, 0, "apctl providers list after the restart")
    local msn = out:match('{"name":"msn"[^}]*}') or ""
    expect(msn:find('"allowed":false', 1, true), "msn still disallowed after the crash: " .. msn)

    rc, out = lab:apctl("audit", "--user", "alice@contoso.test", "--limit", "0")
    expect_eq(rc, 0, "apctl audit after the restart")
    local seen = 0
    for _ in out:gmatch("MESSAGE") do seen = seen + 1 end
    expect(seen >= n, string.format("all %d acknowledged MESSAGEs audited after kill -9, found %d:\n%s", n, seen, out))

    expect_eq(alice:send_message(bob, "after the crash"), 200, "MESSAGE after the restart")
    bob:expect_message{ contains = "after the crash" }
  end,
}
