-- TLS-005 (RFC 5280 4.1.2.5, 6.1.3): expired or not-yet-valid peer certificates are refused,
-- on either edge and whichever side dials, and the proxy's log says why.
local sip = require("sip")

local function sut_log(lab)
  local f = assert(io.open(lab.dir .. "/sut.log", "r"))
  local text = f:read("a")
  f:close()
  return text:lower()
end

return scenario {
  title  = "Expired and not-yet-valid certificates are refused with the reason logged",
  covers = { "TLS-005" },
  tags   = { "tls" },
  waive  = {
    { "transactions-end", call_id = "refused-probe-*",
      why = "over TLS 1.3 a probe's request may cross before its certificate is refused" },
  },
  run = function(lab)
    local aol = lab.provider("aol")
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = aol:user("bob@aol.test")

    for _, kind in ipairs{ "expired", "not-yet-valid" } do
      for _, v in ipairs{ "1.2", "1.3" } do
        local r = aol:send_raw(sip.request{ from = "bob@aol.test", to = "alice@contoso.test",
          call_id = "refused-probe-" .. kind .. "-" .. v .. "@probe.invalid", body = kind }, { cert = kind, tls_version = v })
        expect_eq(r.handshake, "failed", "TLS " .. v .. " handshake with an " .. kind .. " provider certificate")
        expect_eq(#r.responses, 0, "SIP responses on the refused connection")
        log(kind .. " TLS " .. v .. ": " .. tostring(r.reason))
      end
      local r = lab.enterprise:send_raw(sip.request{ from = "alice@contoso.test", to = "bob@aol.test",
        call_id = "refused-probe-" .. kind .. "@probe.invalid", body = kind }, { cert = kind })
      expect_eq(r.handshake, "failed", "handshake with an " .. kind .. " home server certificate")
    end
    -- over TLS 1.3 a probe's request is on its own leg before the refusal; it must go no further
    lab.capture:expect{ leg = "internal", method = "MESSAGE", from = "bob@aol.test", count = 0 }
    lab.capture:expect{ leg = "external", method = "MESSAGE", from = "alice@contoso.test", count = 0 }

    -- the proxy dialling a provider whose server certificate expired
    aol:present_cert("expired")
    local st = alice:send_message(bob, "to an expired provider")
    expect(st ~= 200, "a MESSAGE towards a provider with an expired certificate fails (got " .. tostring(st) .. ")")
    expect_eq(bob:inbox_count(), 0, "messages bob received")

    local text = sut_log(lab)
    expect(text:find("expired", 1, true), "the proxy's log names the expired certificate (sut.log)")
    expect(text:find("not yet valid", 1, true), "the proxy's log names the not-yet-valid certificate (sut.log)")
  end,
}
