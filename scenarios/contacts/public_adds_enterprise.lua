-- A public user adds an enterprise user. AOL makes no verification claim, so in verified-only
-- mode the subscription is unverified: refused unless alice allows bob (TRUST-006). MSN claims
-- verification: alice is asked and can allow.
return scenario {
  title  = "public users add an enterprise user: unverified refused, verified asked",
  covers = { "CONT-003", "TRUST-006" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    local dan   = lab.provider("msn"):user("dan@msn.test")
    bob:add_contact(alice)
    bob:expect_presence(alice, "offline", { subscription = "terminated" })
    lab.capture:expect{ leg = "internal", method = "SUBSCRIBE", status = 403 }
    alice:allow(bob)
    bob:remove_contact(alice)
    bob:add_contact(alice)
    bob:expect_presence(alice, "online", { subscription = "active" })

    dan:add_contact(alice)
    alice:expect_authorization_request(dan):grant()
    dan:expect_presence(alice, "online", { subscription = "active" })
    lab.capture:settle() -- the last NOTIFYs finish their transactions before the capture is judged
  end,
}
