-- A provider that was not chosen never routes to the enterprise, even after the request is
-- provisioned for the others.
local prov = require("prov")

return scenario {
  title  = "MSN, not chosen, never routes to contoso.test; AOL, chosen, does",
  covers = { "PROV-008" },
  tags   = { "provisioning" },
  lab    = { provisioned = false },
  run = function(lab)
    local site = lab:provisioning()
    local alice = lab.enterprise:user("alice@contoso.test")
    local carol = lab.provider("msn"):user("carol@msn.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    alice:allow(carol)
    alice:allow(bob)

    local id = prov.provision(site, { providers = { "aol" } })
    expect_eq(site:provider_state(id, "msn"), "none", "msn's state in the request")
    local status = carol:send_message(alice, "hello from msn")
    expect_eq(status, 404, "MSN's answer for contoso.test after provisioning")
    status = bob:send_message(alice, "hello from aol")
    expect_eq(status, 200, "AOL's answer for contoso.test after provisioning")
    -- and still not later
    lab:sleep(0.3)
    status = carol:send_message(alice, "hello again from msn")
    expect_eq(status, 404, "MSN's answer a while later")
    alice:expect_message{ from = bob, contains = "hello from aol" }
  end,
}
