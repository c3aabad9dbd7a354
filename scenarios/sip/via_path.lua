-- RFC 3261 16.6 step 8 and 16.7 step 3: the proxy adds its Via when forwarding and removes it
-- from the response, which follows the Via path back.
local sip = require("sip")

return scenario {
  title  = "The proxy's Via is added on the way out and removed from the response on the way back",
  covers = { "SIP-003", "TOPO-001" },
  tags   = { "sip-core" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    expect_eq(alice:send_message(bob, "via test"), 200, "response to alice's MESSAGE")
    local out = lab.capture:expect{ leg = "external", method = "MESSAGE", count = 1 }[1]
    local vias = sip.headers(out.text, "Via")
    expect(#vias >= 1 and vias[1]:find("ap.contoso.test", 1, true),
      "the proxy's external FQDN in the top Via on the external leg, got '" .. tostring(vias[1]) .. "'")
    for _, v in ipairs(vias) do
      expect(not v:find("pool.contoso.test", 1, true), "no internal Via on the external leg: " .. v)
    end
    local back = lab.capture:expect{ leg = "internal", status = 200, method = "MESSAGE", count = 1 }[1]
    for _, v in ipairs(sip.headers(back.text, "Via")) do
      expect(not v:find("ap-int.contoso.test", 1, true) and not v:find("ap.contoso.test", 1, true),
        "the proxy's Via removed from the 200 sent back inside, found: " .. v)
    end
    expect(sip.header(back.text, "Via"):find("pool.contoso.test", 1, true),
      "the home server's own Via on the 200 it gets back")
  end,
}
