-- TRUST-007: an unverified IM (AOL makes no verification claim) is refused by the enterprise
-- client with 403 unless the sender is on the allow list; MSN's claim makes it verified.
return scenario {
  title  = "unverified IM refused unless the sender is allowed",
  covers = { "TRUST-007", "TRUST-004" },
  tags   = { "workers" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    local dan   = lab.provider("msn"):user("dan@msn.test")
    expect_eq(bob:send_message(alice, "unverified hello"), 403, "unverified IM, not allowed")
    expect_eq(alice:inbox_count(), 0, "messages alice got")
    alice:allow(bob)
    expect_eq(bob:send_message(alice, "allowed now"), 200, "unverified IM, allowed")
    alice:expect_message{ from = bob, contains = "allowed now" }
    expect_eq(dan:send_message(alice, "verified hello"), 200, "IM from MSN (verified claim)")
    local m = alice:expect_message{ from = dan }
    expect(m.trust:find("ms-source-verified-user=verified", 1, true), "trust mark verified, got " .. m.trust)
  end,
}
