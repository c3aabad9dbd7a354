-- SIP-005 (RFC 3261 16.10): a CANCEL is answered 200 by the proxy and follows its INVITE to
-- the same destination with the same branch; a CANCEL for no INVITE gets 481.
local sip = require("sip")

local SDP = "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" ..
            "m=message 5061 TCP/TLS/MSRP *\r\na=accept-types:text/plain\r\n"

return scenario {
  title  = "CANCEL of a pending INVITE: 200 from the proxy, forwarded on the INVITE's branch",
  covers = { "SIP-005" },
  tags   = { "sip-core" },
  waive  = {
    { "transactions-end", call_id = "cancel-*",
      why = "the provider withholds its answer to the cancelled INVITE on purpose" },
  },
  run = function(lab)
    local aol = lab.provider("aol")
    aol:fault{ method = "INVITE", withhold_response = true }
    local branch = "z9hG4bKcancel" .. math.random(100000, 999999)
    local common = { from = "alice@contoso.test", to = "bob@aol.test", call_id = "cancel-" .. branch }
    local function req(method, body, ctype)
      local t = { method = method, body = body, content_type = ctype,
                  headers = { "Via: SIP/2.0/TLS pool.contoso.test:5061;branch=" .. branch,
                              "From: <sip:alice@contoso.test>;tag=c1",
                              "Contact: <sip:alice@pool.contoso.test;transport=tls>" } }
      for k, v in pairs(common) do t[k] = v end
      return sip.request(t)
    end
    local r = lab.enterprise:send_raw(req("INVITE", SDP, "application/sdp"), { timeout = 1 })
    expect(not r.final, "no final answer to the INVITE yet")
    expect(#r.responses > 0 and r.responses[1].status == 100, "100 Trying from the proxy")
    local inv = lab.capture:expect{ leg = "external", method = "INVITE", count = 1 }[1]
    r = lab.enterprise:send_raw(req("CANCEL"), { timeout = 2 })
    expect(r.final, "an answer to the CANCEL")
    expect_eq(r.final.status, 200, "the proxy's answer to the CANCEL")
    lab:sleep(0.3)
    local can = lab.capture:expect{ leg = "external", method = "CANCEL", count = 1 }[1]
    local function top_branch(text)
      return (sip.header(text, "Via") or ""):match("branch=([^;%s,]+)")
    end
    expect(top_branch(inv.text) and top_branch(inv.text) == top_branch(can.text),
      "the CANCEL leaves with the INVITE's branch: " .. tostring(top_branch(inv.text)) ..
      " vs " .. tostring(top_branch(can.text)))
    -- a CANCEL matching nothing
    local other = sip.request{ method = "CANCEL", from = "alice@contoso.test", to = "bob@aol.test" }
    r = lab.enterprise:send_raw(other, { timeout = 2 })
    expect(r.final, "an answer to the stray CANCEL")
    expect_eq(r.final.status, 481, "answer to a CANCEL for no INVITE")
  end,
}
