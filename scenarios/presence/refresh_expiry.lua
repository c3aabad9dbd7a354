-- PRES-004: subscriptions are refreshed across the proxy; unrefreshed, they end with timeout.
return scenario {
  title   = "subscription refresh and expiry across the proxy",
  covers  = { "PRES-004" },
  tags   = { "workers" },
  timeout = 40,
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    lab.enterprise:subscription_expires(4)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    bob:allow(alice)
    alice:add_contact(bob)
    alice:expect_presence(bob, "online", { subscription = "active" })
    lab:sleep(5)
    local state, info = alice:presence_of(bob)
    expect(info.refreshes >= 1, "at least one refresh answered 2xx, got " .. info.refreshes)
    expect_eq(info.subscription, "active", "subscription after refreshes")
    alice:set_auto_refresh(false)
    local seen = alice:expect_presence(bob, "offline", { subscription = "terminated", timeout = 10 })
    expect_eq(seen.reason, "timeout", "termination reason")
    lab:sleep(0.5) -- the last NOTIFYs finish their transactions before the capture is judged
  end,
}
