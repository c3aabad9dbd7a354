-- CONT-005: contacts and subscriptions survive a restart of the proxy (the home server's
-- restart: survive_home_restart.lua).

-- Every NOTIFY bob's provider sent has its 200 back on the external leg (waited for on the
-- capture, bounded): a kill -9 before that would cut a transaction no proxy could answer.
local function settled(lab)
  local n, other = 0, 0
  for _, m in ipairs(lab.capture:sip{ leg = "external", from = "bob@aol.test" }) do
    if m.method == "NOTIFY" and m.request then n = n + 1 end
    -- a graceful restart answers what it still holds (503): final too
    if not m.request and m.status >= 300 and m.text:match("\r\nCSeq:%s*%d+%s+NOTIFY") then other = other + 1 end
  end
  lab.capture:expect{ leg = "external", method = "NOTIFY", status = 200, from = "bob@aol.test",
                      count = n - other, within = 5 }
end
return scenario {
  title  = "An AOL contact's presence keeps flowing to alice across a proxy restart (graceful and kill -9)",
  covers = { "CONT-005" },
  tags   = { "contacts", "robustness" },
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
    settled(lab)

    lab.sut:restart{ signal = 9 }
    bob:set_presence("away")
    alice:expect_presence(bob, "away")
    settled(lab)
  end,
}
