-- TLS-003: a provider connection is accepted only if the peer certificate's subject CN equals
-- the provider's configured edge FQDN; a SAN naming it is not enough (MS federation rule).
local sip = require("sip")

return scenario {
  title  = "A certificate with the right SAN but the wrong CN is refused both ways",
  covers = { "TLS-003" },
  tags   = { "tls" },
  run = function(lab)
    local aol = lab.provider("aol")
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = aol:user("bob@aol.test")
    alice:allow(bob) -- unverified AOL IM reaches alice only from her allow list (TRUST-007)

    -- inbound: the TLS handshake passes (the chain and the SAN are fine); the proxy refuses
    -- the provider on its CN
    local r = aol:send_raw(sip.request{ from = "bob@aol.test", to = "alice@contoso.test",
      body = "wrong CN" }, { cert = "cn-wrong-san-right" })
    expect(r.final or r.closed, "a refusal (a final response or a closed connection)")
    if r.final then
      expect(r.final.status >= 400, "a refusal status, got " .. r.final.status)
    end
    lab.capture:expect{ leg = "internal", method = "MESSAGE", count = 0 }
    expect_eq(alice:inbox_count(), 0, "messages alice received")

    -- outbound: the provider's server certificate has the wrong CN
    aol:present_cert("cn-wrong-san-right")
    local st = alice:send_message(bob, "to a provider with the wrong CN")
    expect(st ~= 200, "a MESSAGE towards a provider whose certificate CN is wrong fails (got " .. tostring(st) .. ")")
    expect_eq(bob:inbox_count(), 0, "messages bob received")

    -- the right certificate again: traffic passes, so the refusals were about the CN
    aol:present_cert(nil)
    st = bob:send_message(alice, "right CN")
    expect_eq(st, 200, "MESSAGE from bob with the provider's good certificate")
    alice:expect_message{ from = bob, contains = "right CN" }
  end,
}
