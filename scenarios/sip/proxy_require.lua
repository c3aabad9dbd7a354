-- RFC 3261 16.3 step 5: a Proxy-Require the proxy does not support gets 420 with Unsupported.
local sip = require("sip")

return scenario {
  title  = "An unsupported Proxy-Require option gets 420 Bad Extension listing it",
  covers = { "SIP-004" },
  tags   = { "sip-core" },
  run = function(lab)
    local r = lab.enterprise:send_raw(sip.request{ from = "alice@contoso.test", to = "bob@aol.test",
      headers = { "Proxy-Require: x-teleport, x-telepathy" }, body = "hi" })
    expect(r.final, "a final response")
    expect_eq(r.final.status, 420, "response to an unsupported Proxy-Require")
    local unsup = table.concat(sip.headers(r.final.text, "Unsupported"), ",")
    expect(unsup:find("x-teleport", 1, true) and unsup:find("x-telepathy", 1, true),
      "Unsupported listing x-teleport and x-telepathy, got '" .. unsup .. "'")
    lab.capture:expect{ leg = "external", method = "MESSAGE", count = 0 }
  end,
}
