-- SIP-002 (RFC 3261 16.3 step 4): a request that comes back to the proxy unchanged - here the
-- very MESSAGE the proxy forwarded to AOL, sent back to the proxy's external edge by AOL - is a
-- loop: it carries our own Via with the same loop hash, and is answered 482, not forwarded.
local sip = require("sip")

return scenario {
  title  = "A forwarded MESSAGE routed back to the proxy is detected as a loop and answered 482",
  covers = { "SIP-002" },
  tags   = { "sip-core" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    expect_eq(alice:send_message(bob, "round and round"), 200, "alice's MESSAGE to bob")
    bob:expect_message{ from = alice }
    local fwd = lab.capture:expect{ leg = "external", method = "MESSAGE", count = 1 }[1]
    local via = sip.header(fwd.text, "Via") or ""
    expect(via:find("ap.contoso.test", 1, true), "the forwarded MESSAGE has our Via on top: " .. via)
    local r = lab.provider("aol"):send_raw(fwd.text, { timeout = 3 })
    expect(r.final, "an answer to the looped MESSAGE")
    expect_eq(r.final.status, 482, "answer to the looped MESSAGE")
    lab.capture:expect{ leg = "internal", method = "MESSAGE", count = 1 } -- alice's only
    expect_eq(alice:inbox_count(), 0, "messages alice received")
    -- a request that merely spirals (another Request-URI) is no loop
    local st = alice:send_message(bob, "still fine")
    expect_eq(st, 200, "an ordinary MESSAGE afterwards")
  end,
}
