-- RFC 3261 16.3 step 3 and 16.6 step 3: Max-Forwards 0 is answered 483 and goes nowhere;
-- any other value is decremented on the way out.
local sip = require("sip")

return scenario {
  title  = "Max-Forwards: 0 gets 483 and is not forwarded; otherwise it is decremented",
  covers = { "SIP-001" },
  tags   = { "sip-core" },
  run = function(lab)
    lab.provider("aol"):user("bob@aol.test")
    local r = lab.enterprise:send_raw(sip.request{ from = "alice@contoso.test", to = "bob@aol.test",
      headers = { "Max-Forwards: 0" }, body = "should not leave" })
    expect(r.final, "a final response to a MESSAGE with Max-Forwards 0")
    expect_eq(r.final.status, 483, "response to Max-Forwards 0")
    lab.capture:expect{ leg = "external", method = "MESSAGE", count = 0 }

    r = lab.enterprise:send_raw(sip.request{ from = "alice@contoso.test", to = "bob@aol.test",
      headers = { "Max-Forwards: 7" }, body = "seven hops left" })
    expect(r.final, "a final response to a MESSAGE with Max-Forwards 7")
    expect_eq(r.final.status, 200, "response to the MESSAGE with Max-Forwards 7")
    local out = lab.capture:expect{ leg = "external", method = "MESSAGE", count = 1 }
    expect_eq(sip.header(out[1].text, "Max-Forwards"), "6", "Max-Forwards on the external leg")
  end,
}
