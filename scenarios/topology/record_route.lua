-- TOPO-002 (RFC 3261 16.6 step 4, 16.12): a dialog-creating request is record-routed through the
-- proxy, each side seeing the proxy under the name of its own edge; in-dialog requests traverse
-- the proxy both ways and the responses find their way back.
local sip = require("sip")

local function has(list, needle)
  for _, v in ipairs(list) do if v:find(needle, 1, true) then return true end end
  return false
end

return scenario {
  title  = "An IM session and a presence subscription are record-routed; in-dialog requests cross the proxy",
  covers = { "TOPO-002", "IM-002" },
  tags   = { "topology", "sip-core" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    alice:allow(bob)
    local s = alice:start_session(bob)
    local b = bob:expect_session(alice)
    b:accept()
    s:expect_established()
    s:send("inside the dialog, from alice")
    b:expect_message{ contains = "from alice" }
    b:send("inside the dialog, from bob")
    s:expect_message{ contains = "from bob" }
    s:bye()
    b:expect_end()
    lab:sleep(0.3)

    local ext = lab.capture:expect{ leg = "external", method = "INVITE", count = 1 }[1]
    local rr = sip.headers(ext.text, "Record-Route")
    expect(has(rr, "ap.contoso.test"), "the proxy's external name in Record-Route on the external leg: " .. table.concat(rr, " | "))
    expect(not has(rr, "ap-int.contoso.test") and not has(rr, "pool.contoso.test"),
      "no internal name in Record-Route on the external leg: " .. table.concat(rr, " | "))
    local ok = lab.capture:expect{ leg = "internal", method = "INVITE", status = 200, count = 1 }[1]
    local rr_in = sip.headers(ok.text, "Record-Route")
    expect(has(rr_in, "ap-int.contoso.test"), "the proxy's internal name in the Record-Route alice's side sees: " .. table.concat(rr_in, " | "))
    -- in-dialog requests crossed both legs, in both directions
    for _, m in ipairs({ "ACK", "BYE" }) do
      lab.capture:expect{ leg = "internal", method = m, from = "alice@contoso.test" }
      lab.capture:expect{ leg = "external", method = m, from = "alice@contoso.test" }
    end
    lab.capture:expect{ leg = "external", method = "MESSAGE", from = "bob@aol.test", count = 1 }
    lab.capture:expect{ leg = "internal", method = "MESSAGE", from = "bob@aol.test", count = 1 }
    lab.capture:expect{ leg = "internal", method = "MESSAGE", from = "alice@contoso.test", count = 1 }
    lab.capture:expect{ leg = "external", method = "MESSAGE", from = "alice@contoso.test", count = 1 }
    lab.capture:expect{ leg = "external", method = "BYE", status = 200 }
    lab.capture:expect{ leg = "internal", method = "BYE", status = 200 }

    -- a subscription is a dialog too: its SUBSCRIBE is record-routed, its NOTIFYs cross back
    bob:set_presence("online")
    alice:add_contact(bob)
    bob:expect_authorization_request(alice):grant()
    alice:expect_presence(bob, "online")
    lab:sleep(0.3)
    local sub = lab.capture:expect{ leg = "external", method = "SUBSCRIBE" }[1]
    expect(has(sip.headers(sub.text, "Record-Route"), "ap.contoso.test"), "SUBSCRIBE record-routed on the external leg")
    lab.capture:expect{ leg = "internal", method = "NOTIFY", from = "bob@aol.test" }
  end,
}
