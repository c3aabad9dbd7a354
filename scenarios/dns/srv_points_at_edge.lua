-- DNS-001: the enterprise's federation SRV record names the proxy's external edge, whose A
-- record is the edge's address; both resolve through the lab's stub DNS over UDP.
return scenario {
  title  = "_sipfederationtls._tcp SRV points at the access proxy's A record",
  covers = { "DNS-001" },
  run = function(lab)
    local dns = lab:dns()
    local r = dns:resolve("_sipfederationtls._tcp.contoso.test.", "SRV")
    expect(r, "an answer to the SRV query")
    expect_eq(r.rcode, "NOERROR", "rcode of the SRV query")
    expect_eq(#r.answers, 1, "SRV records for contoso.test")
    local srv = r.answers[1]
    expect_eq(srv.type, "SRV", "answer type")
    expect_eq(srv.rdata[3], "5061", "SRV port")
    expect_eq(srv.rdata[4], "ap.contoso.test.", "SRV target")
    local a = dns:resolve(srv.rdata[4], "A")
    expect(a and #a.answers == 1, "one A record for the SRV target")
    expect_eq(a.answers[1].rdata[1], lab.addr["ap.contoso.test"], "A record of the target")
    -- the additional section already carries it (RFC 2782)
    local found = false
    for _, rr in ipairs(r.additional) do
      if rr.type == "A" and rr.rdata[1] == lab.addr["ap.contoso.test"] then found = true end
    end
    expect(found, "the target's A record in the SRV answer's additional section")
    dns:expect_query{ name = "_sipfederationtls._tcp.contoso.test", type = "SRV",
                      transport = "udp", count = 1 }
    dns:expect_query{ name = "ap.contoso.test", type = "A", transport = "udp", min = 1 }
  end,
}
