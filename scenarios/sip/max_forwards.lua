-- RFC 3261 16.3 step 3 and 16.6 step 3: Max-Forwards 0 is answered 483 and goes nowhere;
-- any other value is decremented on the way out, so 1 leaves as 0 (the next hop judges it),
-- and a request without Max-Forwards leaves with 70. Both directions; every check on the
-- decrypted far leg, each probe by its own Call-ID.
local sip = require("sip")

-- the copy of the probe on the far leg, and its Max-Forwards there
local function crossed(lab, leg, call_id)
  local out = lab.capture:expect{ leg = leg, method = "MESSAGE", call_id = call_id, count = 1, within = 5 }
  return sip.header(out[1].text, "Max-Forwards")
end

return scenario {
  title  = "Max-Forwards: 0 gets 483 and is not forwarded; otherwise it is decremented (1 leaves as 0), absent leaves as 70; both ways",
  covers = { "SIP-001" },
  tags   = { "sip-core" },
  run = function(lab)
    local dave = lab.enterprise:user("dave@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    dave:allow(bob) -- unverified AOL requests reach dave only from his allow list (TRUST-007)
    local function out(call_id, mf, body)
      local text = sip.request{ from = "alice@contoso.test", to = "bob@aol.test", call_id = call_id,
        headers = { "Max-Forwards: " .. mf }, body = body }
      if mf == "absent" then text = text:gsub("Max%-Forwards: absent\r\n", "") end
      return lab.enterprise:send_raw(text)
    end
    local function inward(call_id, mf, body)
      return lab.provider("aol"):send_raw(sip.request{ from = "bob@aol.test", to = "dave@contoso.test",
        via_host = "sip.aol.test", call_id = call_id, headers = { "Max-Forwards: " .. mf }, body = body })
    end

    -- 0: the proxy answers 483 itself, in both directions, and nothing crosses
    local r = out("mf-zero-out@probe", "0", "should not leave")
    expect(r.final, "a final response to a MESSAGE with Max-Forwards 0")
    expect_eq(r.final.status, 483, "response to Max-Forwards 0")
    lab.capture:expect{ leg = "external", method = "MESSAGE", call_id = "mf-zero-out@probe", count = 0 }
    r = inward("mf-zero-in@probe", "0", "should not come in")
    expect_eq(r.final and r.final.status, 483, "response to an inbound MESSAGE with Max-Forwards 0")
    lab.capture:expect{ leg = "internal", method = "MESSAGE", call_id = "mf-zero-in@probe", count = 0 }

    -- 7: decremented to 6
    r = out("mf-seven-out@probe", "7", "seven hops left")
    expect(r.final, "a final response to a MESSAGE with Max-Forwards 7")
    expect_eq(r.final.status, 200, "response to the MESSAGE with Max-Forwards 7")
    expect_eq(crossed(lab, "external", "mf-seven-out@probe"), "6", "Max-Forwards 7 on the external leg")
    bob:expect_message{ contains = "seven hops left" }

    -- 1: one hop left is the proxy's to use: it forwards with 0, it does not answer 483 itself
    -- (whatever the next hop then answers)
    r = out("mf-one-out@probe", "1", "one hop left")
    expect(r.final, "a final response to a MESSAGE with Max-Forwards 1")
    log("Max-Forwards 1 outward answered " .. r.final.status)
    expect_eq(crossed(lab, "external", "mf-one-out@probe"), "0",
      "Max-Forwards 1 forwarded on the external leg as 0 (answered " .. tostring(r.final and r.final.status) .. ")")
    r = inward("mf-one-in@probe", "1", "one hop left inward")
    expect(r.final, "a final response to an inbound MESSAGE with Max-Forwards 1")
    expect_eq(crossed(lab, "internal", "mf-one-in@probe"), "0",
      "inbound Max-Forwards 1 forwarded on the internal leg as 0 (answered " .. tostring(r.final and r.final.status) .. ")")

    -- absent: the proxy adds 70 (16.6 step 3) and forwards; it is not a 0
    r = out("mf-absent-out@probe", "absent", "no Max-Forwards at all")
    expect_eq(r.final and r.final.status, 200, "response to a MESSAGE without Max-Forwards")
    expect_eq(crossed(lab, "external", "mf-absent-out@probe"), "70",
      "Max-Forwards on the external leg of a MESSAGE that had none")
    bob:expect_message{ contains = "no Max-Forwards at all" }
  end,
}
