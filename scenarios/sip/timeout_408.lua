-- SIP-005 (RFC 3261 16.8, 17.1.2.2 Timer F): a MESSAGE the provider never answers gets 408 from
-- the proxy after Timer F (64*T1 = 32 s), and the proxy keeps serving.
local sip = require("sip")

return scenario {
  title  = "No answer from AOL: the proxy answers 408 after Timer F",
  covers = { "SIP-005" },
  tags   = { "sip-core", "slow" },
  waive  = {
    { "transactions-end", flow = "ap.contoso.test -> sip.aol.test",
      why = "AOL withholds its answer to the MESSAGE on purpose" },
  },
  timeout = 50,
  run = function(lab)
    local aol = lab.provider("aol")
    aol:fault{ method = "MESSAGE", withhold_response = true }
    -- sent raw so that the sender's own Timer F cannot race the proxy's
    local r = lab.enterprise:send_raw(sip.request{ from = "alice@contoso.test", to = "bob@aol.test",
      body = "anyone there?" }, { timeout = 40 })
    expect(r.final, "a final answer within 40 s")
    expect_eq(r.final.status, 408, "answer when the provider never answers")
    lab.capture:expect{ leg = "external", method = "MESSAGE", count = 1 }
    aol:clear_faults()
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = aol:user("bob@aol.test")
    expect_eq(alice:send_message(bob, "now?"), 200, "MESSAGE once AOL answers again")
    bob:expect_message{ contains = "now?" }
  end,
}
