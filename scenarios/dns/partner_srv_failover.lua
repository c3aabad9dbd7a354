-- DNS-003: MSN as a federated partner (public = no) is found by _sipfederationtls._tcp SRV.
-- The most preferred target refuses connections, the next one fails TLS (its certificate
-- names another host); the proxy fails over, in priority order, to the real edge with the
-- same request.
return scenario {
  title  = "federated partner by SRV: priority order and failover on refusal and TLS failure",
  covers = { "DNS-003" },
  lab    = { providers = { msn = { allow = true, public = false } } },
  run = function(lab)
    local dns   = lab:dns()
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("msn"):user("bob@msn.test")
    local net   = lab.addr["ns.test"]:match("^(%d+%.%d+%.%d+)%.")
    dns:add("_sipfederationtls._tcp.msn.test. 300 IN SRV 1 10 5061 refuses.msn.test.\n" ..
            "refuses.msn.test. 300 IN A " .. net .. ".99\n" ..
            "_sipfederationtls._tcp.msn.test. 300 IN SRV 5 10 5061 wrongcert.msn.test.\n" ..
            "wrongcert.msn.test. 300 IN A " .. lab.addr["sip.aol.test"] .. "\n")
    local srv = dns:resolve("_sipfederationtls._tcp.msn.test.", "SRV")
    expect_eq(#srv.answers, 3, "SRV records for msn.test")
    dns:clear_log()
    expect_eq(alice:send_message(bob, "over SRV"), 200, "MESSAGE to the partner")
    local m = bob:expect_message{ from = alice, contains = "over SRV" }
    dns:expect_query{ name = "_sipfederationtls._tcp.msn.test", type = "SRV", count = 1 }
    for _, t in ipairs{ "refuses.msn.test", "wrongcert.msn.test", "sip.msn.test" } do
      dns:expect_query{ name = t, type = "A", count = 1 }
    end
    -- the connection stays: a second message needs no DNS and no failover
    expect_eq(alice:send_message(bob, "again"), 200, "second MESSAGE to the partner")
    dns:expect_query{ name = "_sipfederationtls._tcp.msn.test", type = "SRV", count = 1 }
    -- the TLS attempt reached the wrong host and ended there; the message went to MSN only
    lab.capture:expect{ leg = "external", method = "MESSAGE", count = 2 }
  end,
}
