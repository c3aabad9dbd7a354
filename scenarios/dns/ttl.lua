-- DNS-005: the proxy keeps an answer for its TTL (2 s here): a connection opened again
-- within the TTL asks nothing; one after it asks again.
return scenario {
  title  = "edge address cached for its TTL, asked again after it",
  covers = { "DNS-005" },
  waive  = {
    { "transactions-end", flow = "ap.contoso.test -> sip.aol.test",
      why = "AOL drops the connections under MESSAGEs 'one' and 'three' on purpose" },
  },
  lab    = { providers = { aol = { allow = true } } },
  run = function(lab)
    local dns   = lab:dns()
    local aol   = lab.provider("aol")
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = aol:user("bob@aol.test")
    dns:remove("sip.aol.test.", "A")
    dns:add("sip.aol.test. 2 IN A " .. lab.addr["sip.aol.test"])
    local r = dns:resolve("sip.aol.test.", "A")
    expect_eq(r.answers[1].ttl, 2, "TTL served by the lab DNS")
    dns:clear_log()
    -- each dropped connection makes the next request open a new one, which needs the address
    aol:fault{ drop_next_connection = true, method = "MESSAGE" }
    expect(alice:send_message(bob, "one") ~= 200, "the first MESSAGE's connection is dropped")
    aol:clear_faults()
    expect_eq(alice:send_message(bob, "two"), 200, "MESSAGE on a new connection within the TTL")
    dns:expect_query{ name = "sip.aol.test", type = "A", count = 1 }
    aol:fault{ drop_next_connection = true, method = "MESSAGE" }
    expect(alice:send_message(bob, "three") ~= 200, "the third MESSAGE's connection is dropped")
    aol:clear_faults()
    lab:sleep(2.5)
    expect_eq(alice:send_message(bob, "four"), 200, "MESSAGE on a new connection after the TTL")
    dns:expect_query{ name = "sip.aol.test", type = "A", count = 2 }
    bob:expect_message{ from = alice, contains = "two" }
    bob:expect_message{ from = alice, contains = "four" }
  end,
}
