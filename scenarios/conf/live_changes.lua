-- CONF-007 / CONF-002: provider table changes take effect without a restart.
return scenario {
  title  = "Disallowing AOL with apctl refuses at once; allowing it again passes; same process",
  covers = { "CONF-007", "CONF-002" },
  tags   = { "conf" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local pid = lab.sut:pid()
    expect_eq(alice:send_message(bob, "one"), 200, "MESSAGE with aol allowed")
    bob:expect_message{ contains = "one" }
    local rc, out = lab:apctl("providers", "disallow", "aol")
    expect_eq(rc, 0, "apctl providers disallow aol (" .. out .. ")")
    expect_eq(alice:send_message(bob, "two"), 403, "alice's MESSAGE with aol disallowed")
    expect_eq(bob:send_message(alice, "two back"), 403, "bob's MESSAGE with aol disallowed")
    rc, out = lab:apctl("providers", "allow", "aol")
    expect_eq(rc, 0, "apctl providers allow aol (" .. out .. ")")
    expect_eq(alice:send_message(bob, "three"), 200, "MESSAGE with aol allowed again")
    bob:expect_message{ contains = "three" }
    expect_eq(lab.sut:pid(), pid, "the same accessproxy process throughout")
    -- alice's first and third left; her second did not (bob's went no further than the edge)
    lab.capture:expect{ leg = "external", method = "MESSAGE", from = "alice@contoso.test", count = 2 }
    lab.capture:expect{ leg = "internal", method = "MESSAGE", from = "bob@aol.test", count = 0 }
  end,
}
