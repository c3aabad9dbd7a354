-- TLS-006: the internal edge also uses mutual TLS, and its next hop is named by FQDN; the
-- config check refuses an IP address there.
local sip = require("sip")

return scenario {
  title  = "Internal edge: mutual TLS, and -t refuses an IP as next_hop",
  covers = { "TLS-006" },
  sut_kinds = { "accessproxy" },  -- reads or rewrites accessproxy.conf
  tags   = { "tls", "config" },
  waive  = {
    { "transactions-end", call_id = "no-cert-probe@probe.invalid",
      why = "the certificate-less probe is never answered" },
  },
  run = function(lab)
    local rc, out = lab:sut_check()
    expect_eq(rc, 0, "accessproxy -t on the lab's own config: " .. out)

    local f = assert(io.open(lab.dir .. "/accessproxy.conf", "r"))
    local conf = f:read("a")
    f:close()
    local variant, n = conf:gsub("next_hop = pool%.contoso%.test", "next_hop = " .. lab.addr["pool.contoso.test"])
    expect_eq(n, 1, "next_hop lines rewritten in the config variant")
    rc, out = lab:sut_check(variant)
    expect(rc ~= 0, "accessproxy -t refuses an IP address as internal next_hop (exit " .. rc .. ")")
    expect(out:find("next_hop", 1, true), "the refusal names next_hop; said: " .. out)
    log(out)

    local r = lab.enterprise:send_raw(sip.request{ from = "alice@contoso.test", to = "bob@aol.test",
      call_id = "no-cert-probe@probe.invalid", body = "no certificate" }, { no_cert = true })
    expect_eq(r.handshake, "failed", "internal edge handshake without a client certificate")
    expect_eq(#r.responses, 0, "SIP responses without a client certificate")
    lab.capture:expect{ leg = "external", method = "MESSAGE", count = 0 }
  end,
}
