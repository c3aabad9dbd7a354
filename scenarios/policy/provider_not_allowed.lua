-- CONF-002: traffic passes only with an allowed, unblocked provider, in both directions.
return scenario {
  title  = "A disallowed provider (Yahoo!) and a blocked one (MSN) are refused both ways; AOL passes",
  covers = { "CONF-002" },
  tags   = { "policy" },
  lab    = { providers = { yahoo = { allow = false }, msn = { allow = true, blocked = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    for _, p in ipairs({ "yahoo", "msn" }) do
      local far = lab.provider(p):user("pat@" .. p .. ".test")
      local st = alice:send_message(far, "to " .. p)
      expect_eq(st, 403, "response to alice's MESSAGE towards " .. p)
      lab.capture:expect{ leg = "external", method = "MESSAGE", to = "pat@" .. p .. ".test", count = 0 }
      st = far:send_message(alice, "from " .. p)
      expect_eq(st, 403, "response to " .. p .. "'s MESSAGE towards alice")
      lab.capture:expect{ leg = "internal", method = "MESSAGE", from = "pat@" .. p .. ".test", count = 0 }
    end
    expect_eq(alice:inbox_count(), 0, "messages alice received from refused providers")
    local bob = lab.provider("aol"):user("bob@aol.test")
    expect_eq(alice:send_message(bob, "to aol"), 200, "response to alice's MESSAGE towards AOL")
    bob:expect_message{ from = alice }
  end,
}
