-- TLS-001: the external edge speaks only mutual TLS. Plain TCP to its TLS port and a TLS client
-- without a certificate get no SIP answer and the connection closed; nothing reaches inside.
local sip = require("sip")

local function options()
  return sip.request{ method = "OPTIONS", from = "bob@aol.test", to = "alice@contoso.test",
    via_host = "sip.aol.test", call_id = "mtls-probe-" .. math.random(1, 1e9) .. "@probe.invalid" }
end

return scenario {
  title  = "External edge: plaintext and certificate-less TLS are refused",
  covers = { "TLS-001" },
  tags   = { "tls" },
  waive  = {
    { "external-tls-only", flow = "sip.aol.test -> ap.contoso.test",
      why = "the scenario sends cleartext SIP to the external edge on purpose" },
    { "transactions-end", call_id = "mtls-probe-*",
      why = "the refused probes are never answered, by design" },
  },
  run = function(lab)
    local aol = lab.provider("aol")

    local r = aol:send_raw(options(), { tls = false })
    expect_eq(r.handshake, "none", "handshake of a plain TCP probe")
    expect_eq(#r.responses, 0, "SIP responses to plaintext on the external edge")
    expect(r.closed, "the proxy closes a plaintext connection on its TLS port")

    for _, v in ipairs{ "1.2", "1.3" } do
      r = aol:send_raw(options(), { no_cert = true, tls_version = v })
      expect_eq(r.handshake, "failed", "TLS " .. v .. " handshake without a client certificate")
      expect_eq(#r.responses, 0, "SIP responses without a client certificate (TLS " .. v .. ")")
      expect(r.closed, "the proxy closes a TLS " .. v .. " connection without a certificate")
      log("no certificate, TLS " .. v .. ": " .. tostring(r.reason))
    end

    -- the same probe with the provider's own certificate is answered: the refusals above are
    -- about the transport, not the request
    r = aol:send_raw(options())
    expect_eq(r.handshake, "ok", "mutual TLS handshake with the provider's certificate")
    expect(r.final, "a final response over mutual TLS")
    lab.capture:expect{ leg = "internal", method = "OPTIONS", count = 1 }
  end,
}
