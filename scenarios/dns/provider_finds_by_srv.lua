-- DNS-001, used: a provider that knows only the enterprise's domain finds the access proxy
-- through _sipfederationtls._tcp.contoso.test SRV (then the target's A record), asked of the lab
-- DNS, and traffic flows both ways over the connection it opens to the record's target and port.
-- The record is what leads there: with its port changed, or the record gone (the proxy's A
-- record still in place), a new connection no longer reaches the proxy; put back, it does.
local function dnsq(dns, name, type)
  return dns:queries{ name = name, type = type }
end

return scenario {
  title  = "MSN finds the access proxy by the enterprise's _sipfederationtls._tcp SRV record",
  covers = { "DNS-001" },
  tags   = { "dns" },
  timeout = 60,
  run = function(lab)
    local dns = lab:dns()
    local msn = lab.provider("msn")
    local alice = lab.enterprise:user("alice@contoso.test")
    local dan = msn:user("dan@msn.test")
    local srv_name = "_sipfederationtls._tcp.contoso.test"
    local good = dns:resolve(srv_name .. ".", "SRV")
    expect(good and #good.answers == 1, "the lab zone's SRV record for contoso.test")
    local record = good.answers[1].text
    log("SRV record: " .. record)

    msn:route_by_srv("contoso.test")
    dns:clear_log()
    expect_eq(dan:send_message(alice, "found you by SRV"), 200, "MESSAGE from dan routed by SRV")
    alice:expect_message{ from = dan, contains = "found you by SRV" }
    local srvq = dns:expect_query{ name = srv_name, type = "SRV", transport = "udp", min = 1 }
    local aq = dns:expect_query{ name = "ap.contoso.test", type = "A", transport = "udp", min = 1 }
    expect(srvq[1].t <= aq[1].t, "the SRV query came before the target's A query")
    -- the connection went to the record's target and port: the proxy's external edge
    local flows = lab.capture:flows{ leg = "external" }
    local found = false
    for _, f in ipairs(flows) do
      if f.client:match("^" .. lab.addr["sip.msn.test"]:gsub("%.", "%%.") .. ":")
         and f.server == lab.addr["ap.contoso.test"] .. ":5061" then found = true end
    end
    expect(found, "a connection from sip.msn.test to ap.contoso.test:5061")
    lab.capture:expect{ leg = "external", method = "MESSAGE", from = dan.aor, to = alice.aor, count = 1 }
    lab.capture:expect{ leg = "internal", method = "MESSAGE", from = dan.aor, to = alice.aor, count = 1 }
    -- and back: alice answers over the proxy's own connection to MSN
    expect_eq(alice:send_message(dan, "and back"), 200, "alice's MESSAGE to dan")
    dan:expect_message{ from = alice, contains = "and back" }

    -- the SRV record's port leads nowhere: a new connection fails
    dns:remove(srv_name .. ".", "SRV")
    dns:add(record:gsub(" 5061 ", " 5071 ") .. "\n")
    lab.sut:restart() -- every connection goes; MSN opens a new one and asks DNS again
    local st, why = dan:send_message(alice, "wrong port")
    expect(st ~= 200, "no 200 with the SRV record's port changed, got " .. tostring(st) .. " " .. tostring(why))
    expect_eq(#lab.capture:sip{ leg = "internal", method = "MESSAGE", from = dan.aor }, 1,
      "MESSAGEs from dan on the internal leg (only the first)")

    -- no SRV record at all, the A record still there: MSN does not reach the proxy
    dns:remove(srv_name .. ".", "SRV")
    dns:clear_log()
    st, why = dan:send_message(alice, "no record")
    expect(st ~= 200, "no 200 without the SRV record, got " .. tostring(st) .. " " .. tostring(why))
    dns:expect_query{ name = srv_name, type = "SRV", min = 1 }
    local q = dnsq(dns, srv_name, "SRV")
    expect(q[#q].rcode ~= "NOERROR", "the SRV query without the record answered " .. q[#q].rcode)

    -- the record back: reached again
    dns:add(record .. "\n")
    expect_eq(dan:send_message(alice, "found you again"), 200, "MESSAGE from dan with the record back")
    alice:expect_message{ from = dan, contains = "found you again" }
    expect_eq(alice:inbox_count(), 0, "messages alice got while the record was wrong")
  end,
}
