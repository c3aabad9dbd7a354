-- POL-003: with the global PIC switch off no internal user reaches any provider; CONF-007: the
-- switch takes effect without a restart (same process) and back on again.
return scenario {
  title  = "The global PIC switch turned off and on with apctl, no restart",
  covers = { "POL-003", "CONF-007" },
  tags   = { "policy", "conf" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local pat = lab.provider("yahoo"):user("pat@yahoo.test")
    local pid = lab.sut:pid()
    expect_eq(alice:send_message(bob, "before"), 200, "MESSAGE with PIC on")
    bob:expect_message{ from = alice }
    local rc, out = lab:apctl("settings", "set", "pic_enabled", "no")
    expect_eq(rc, 0, "apctl settings set pic_enabled no (" .. out .. ")")
    for _, far in ipairs({ bob, pat }) do
      expect_eq(alice:send_message(far, "while off"), 403, "MESSAGE to " .. far.aor .. " with PIC off")
    end
    lab.capture:expect{ leg = "external", method = "MESSAGE", count = 1 }
    rc, out = lab:apctl("settings", "set", "pic_enabled", "yes")
    expect_eq(rc, 0, "apctl settings set pic_enabled yes (" .. out .. ")")
    expect_eq(alice:send_message(bob, "after"), 200, "MESSAGE with PIC on again")
    bob:expect_message{ contains = "after" }
    expect_eq(lab.sut:pid(), pid, "the same accessproxy process throughout")
  end,
}
