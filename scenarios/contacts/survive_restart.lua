-- CONT-005: contacts and subscriptions survive a restart of the proxy (the home server's
-- restart: survive_home_restart.lua).

return scenario {
  title  = "An AOL contact's presence keeps flowing to alice across a proxy restart (graceful and kill -9)",
  covers = { "CONT-005" },
  tags   = { "contacts", "robustness", "workers" },
  timeout = 60,
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    alice:allow(bob)
    bob:set_presence("online")
    alice:add_contact(bob)
    bob:expect_authorization_request(alice):grant()
    alice:expect_presence(bob, "online")

    lab.sut:restart()
    bob:set_presence("busy")
    alice:expect_presence(bob, "busy")
    -- alice sees the NOTIFY before its 200 has crossed back to AOL: a kill -9 in between
    -- cuts that transaction, which no proxy could answer (the capture would flag it)
    lab.capture:settle()

    lab.sut:restart{ signal = 9 }
    bob:set_presence("away")
    alice:expect_presence(bob, "away")
    lab.capture:settle()
  end,
}
