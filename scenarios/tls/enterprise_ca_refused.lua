-- TLS-002: peer certificates must chain to the trusted public CAs. A provider presenting an
-- enterprise-signed certificate fails the handshake at the external edge, whichever side dials;
-- inside, the home server presenting a publicly signed one fails at the internal edge.
local sip = require("sip")

return scenario {
  title  = "Certificates from the wrong CA fail the handshake, both edges, both directions",
  covers = { "TLS-002" },
  tags   = { "tls" },
  waive  = {
    { "transactions-end", call_id = "refused-probe-*",
      why = "requests on refused connections are never answered" },
  },
  run = function(lab)
    local aol = lab.provider("aol")
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = aol:user("bob@aol.test")
    alice:allow(bob) -- unverified AOL IM reaches alice only from her allow list (TRUST-007)

    -- a provider dialling the external edge
    for _, v in ipairs{ "1.2", "1.3" } do
      local r = aol:send_raw(sip.request{ from = "bob@aol.test", to = "alice@contoso.test",
        call_id = "refused-probe-" .. v .. "@probe.invalid", body = "enterprise-signed" }, { cert = "enterprise-signed", tls_version = v })
      expect_eq(r.handshake, "failed", "TLS " .. v .. " handshake with an enterprise-signed provider certificate")
      -- over TLS 1.3 the refusal comes after the client finished; its alert may be lost in the
      -- connection reset, but when it arrives it must say why
      if v == "1.2" or r.alert then
        expect_eq(r.alert, "unknown CA", "alert from the external edge (TLS " .. v .. ")")
      end
      expect_eq(#r.responses, 0, "SIP responses on the refused connection")
    end

    -- the home server dialling the internal edge with a publicly signed certificate
    local r = lab.enterprise:send_raw(sip.request{ from = "alice@contoso.test", to = "bob@aol.test",
      call_id = "refused-probe-int@probe.invalid", body = "public-signed" }, { cert = "public-signed" })
    expect_eq(r.handshake, "failed", "handshake with a publicly signed home server certificate")
    if r.alert then expect_eq(r.alert, "unknown CA", "alert from the internal edge") end
    -- over TLS 1.3 a probe's request is on its own leg before the refusal; it must go no further
    lab.capture:expect{ leg = "internal", method = "MESSAGE", from = "bob@aol.test", count = 0 }
    lab.capture:expect{ leg = "external", method = "MESSAGE", from = "alice@contoso.test", count = 0 }

    -- the proxy dialling a provider that answers with an enterprise-signed certificate
    aol:present_cert("enterprise-signed")
    local st = alice:send_message(bob, "to a provider with the wrong CA")
    expect(st ~= 200, "a MESSAGE towards a provider with an enterprise-signed certificate fails (got " .. tostring(st) .. ")")
    expect_eq(bob:inbox_count(), 0, "messages bob received")

    -- the proxy dialling the home server, which answers with a publicly signed certificate
    lab.enterprise:present_cert("public-signed")
    aol:present_cert(nil)
    st = bob:send_message(alice, "to a home server with the wrong CA")
    expect(st ~= 200, "a MESSAGE towards a home server with a publicly signed certificate fails (got " .. tostring(st) .. ")")
    expect_eq(alice:inbox_count(), 0, "messages alice received")
    lab.capture:expect{ leg = "internal", method = "MESSAGE", status = 200, count = 0 }
  end,
}
