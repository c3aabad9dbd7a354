-- PRES-006: a blocked public user sees the enterprise user offline.
return scenario {
  title  = "a blocked public user sees the enterprise user offline",
  covers = { "PRES-006" },
  tags   = { "workers" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    alice:allow(bob)
    bob:add_contact(alice)
    bob:expect_presence(alice, "online")
    alice:block(bob)
    bob:expect_presence(alice, "offline")
    alice:set_presence("online")
    lab:sleep(0.3)
    expect_eq(bob:presence_of(alice), "offline", "what blocked bob sees")
  end,
}
