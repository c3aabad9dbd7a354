-- TOPO-001: the Contact of a dialog-creating request or response leaving through the external
-- edge names the proxy's external FQDN, never the home server; both directions.
local sip = require("sip")

local function contact_of(m)
  return sip.header(m.text, "Contact") or sip.header(m.text, "m") or ""
end

return scenario {
  title  = "Contacts leaving the external edge name ap.contoso.test (INVITE and its 200)",
  covers = { "TOPO-001" },
  tags   = { "topology" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    alice:allow(bob)
    local s = alice:start_session(bob)
    bob:expect_session(alice):accept()
    s:expect_established()
    expect_eq(s:bye(), 200, "BYE alice -> bob")
    local t = bob:start_session(alice)
    alice:expect_session(bob):accept()
    t:expect_established()
    expect_eq(t:bye(), 200, "BYE bob -> alice")
    local out = lab.capture:expect{ leg = "external", method = "INVITE", from = "alice@contoso.test", count = 1 }[1]
    local ok = lab.capture:expect{ leg = "external", method = "INVITE", status = 200, from = "bob@aol.test" }[1]
    for what, m in pairs{ ["alice's INVITE"] = out, ["alice's 200 to bob's INVITE"] = ok } do
      local c = contact_of(m)
      expect(c:find("ap.contoso.test", 1, true), what .. " on the external leg: Contact names ap.contoso.test, got " .. c)
      expect(not c:find("pool.contoso.test", 1, true), what .. " on the external leg: Contact hides the home server, got " .. c)
    end
  end,
}
