-- Changing the providers or the access proxy FQDN puts the affected providers back to pending,
-- withdraws their routes, and configures them again.
local prov = require("prov")

return scenario {
  title  = "a change of providers or FQDN sends the affected providers back to pending, then routes again",
  covers = { "PROV-007", "PROV-005", "DNS-002" },
  tags   = { "provisioning" },
  lab    = { provisioned = false },
  run = function(lab)
    local site = lab:provisioning()
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local dan = lab.provider("yahoo"):user("dan@yahoo.test")
    alice:allow(bob)
    alice:allow(dan)

    local id = prov.provision(site, { providers = { "aol" } })
    expect_eq(bob:send_message(alice, "aol routed"), 200, "aol after provisioning")
    alice:expect_message{ from = bob, contains = "aol routed" }
    expect_eq(dan:send_message(alice, "yahoo not yet"), 404, "yahoo before it is chosen")

    -- a change form that changes nothing valid is refused
    local ok, problems = site:change(id, { ap_fqdn = "not a fqdn" })
    expect_eq(ok, nil, "a change to a malformed FQDN")
    expect(#problems >= 1, "the change's problem is named")

    -- add Yahoo: Yahoo goes pending, then configured
    ok = site:change(id, { providers = { "aol", "yahoo" } })
    expect(ok, "change of providers accepted")
    expect_eq(site:provider_state(id, "yahoo"), "pending", "yahoo right after the change")
    site:expect_provider_state(id, "yahoo", "configured", { timeout = 5 })
    site:expect_state(id, "provisioned", { timeout = 5 })
    expect_eq(dan:send_message(alice, "yahoo routed"), 200, "yahoo after it is configured")
    alice:expect_message{ from = dan, contains = "yahoo routed" }

    -- a new access proxy FQDN: every chosen provider goes back to pending, routes withdrawn
    ok = site:change(id, { ap_fqdn = "edge.contoso.test" })
    expect(ok, "change of FQDN accepted")
    expect_eq(site:provider_state(id, "aol"), "pending", "aol right after the FQDN change")
    expect_eq(site:provider_state(id, "yahoo"), "pending", "yahoo right after the FQDN change")
    expect_eq(bob:send_message(alice, "aol while pending"), 404, "aol while pending again")
    site:expect_state(id, "provisioned", { timeout = 5 })
    -- configured again, to a name the lab DNS does not know: the provider cannot reach it
    local s = bob:send_message(alice, "aol to edge")
    expect(s ~= 200 and s ~= 404, "aol routes to edge.contoso.test, which has no A record (got " ..
           tostring(s) .. ")")

    -- and back to the proxy's real name: routed again
    ok = site:change(id, { ap_fqdn = "ap.contoso.test" })
    expect(ok, "change back accepted")
    site:expect_state(id, "provisioned", { timeout = 5 })
    expect_eq(bob:send_message(alice, "aol back"), 200, "aol after the FQDN came back")
    alice:expect_message{ from = bob, contains = "aol back" }
    local mails = site:mails(id)
    expect(#mails >= 9, "mails after three changes: " .. #mails)
    expect_eq(mails[#mails].stage, "provisioned", "stage of the last mail")
  end,
}
