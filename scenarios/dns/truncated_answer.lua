-- DNS-003 (RFC 1035 4.2.1, RFC 7766): a UDP answer truncated with TC sends the proxy to TCP
-- for the provider's edge address, and the request still goes through.
return scenario {
  title  = "truncated UDP answer: the proxy asks again over TCP",
  covers = { "DNS-003" },
  lab    = { providers = { aol = { allow = true } } },
  run = function(lab)
    local dns   = lab:dns()
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    dns:fault("sip.aol.test", "truncate")
    expect_eq(alice:send_message(bob, "over tcp dns"), 200, "MESSAGE to AOL")
    bob:expect_message{ from = alice, contains = "over tcp dns" }
    local udp = dns:expect_query{ name = "sip.aol.test", type = "A", transport = "udp", min = 1 }
    expect(udp[1].truncated, "the UDP answer was truncated")
    dns:expect_query{ name = "sip.aol.test", type = "A", transport = "tcp", min = 1 }
  end,
}
