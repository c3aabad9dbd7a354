-- A provider routes the enterprise's domain to the access proxy only once provisioning has
-- configured it: before, bob's MESSAGE dies at AOL; after, the same MESSAGE reaches alice.
local prov = require("prov")

return scenario {
  title  = "AOL routes contoso.test to the access proxy only after provisioning configures it",
  covers = { "PROV-005", "DNS-002" },
  tags   = { "provisioning" },
  lab    = { provisioned = false },
  run = function(lab)
    local site = lab:provisioning()
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    alice:allow(bob)

    local status, reason = bob:send_message(alice, "hello before provisioning")
    expect_eq(status, 404, "AOL's answer before provisioning (" .. tostring(reason) .. ")")

    local q0 = lab:dns_queries()
    local id = site:submit(prov.form{ providers = { "aol" } })
    expect(id ~= nil, "request accepted")
    -- still not routed while the request is received / validating / sent
    expect(site:provider_state(id, "aol") ~= "configured", "aol not configured at once")
    status = bob:send_message(alice, "hello while pending")
    expect_eq(status, 404, "AOL's answer while the request is pending")

    site:expect_provider_state(id, "aol", "configured", { timeout = 5 })
    status, reason = bob:send_message(alice, "hello after provisioning")
    expect_eq(status, 200, "final response through the proxy (" .. tostring(reason) .. ")")
    alice:expect_message{ from = bob, contains = "hello after provisioning" }

    -- DNS-002: AOL found the proxy by the A record of the provisioned FQDN
    expect(lab:dns_queries() > q0, "AOL asked the lab DNS (queries " .. q0 .. " -> " ..
           lab:dns_queries() .. ")")
    if lab.dns then
      lab:dns():expect_query{ name = "ap.contoso.test", type = "A", min = 1 }
    end
  end,
}
