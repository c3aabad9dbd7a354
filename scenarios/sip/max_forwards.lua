-- RFC 3261 16.3 step 3 and 16.6 step 3: Max-Forwards 0 is answered 483 and goes nowhere;
-- any other value is decremented on the way out, so 1 leaves as 0 (the next hop judges it),
-- and a request without Max-Forwards leaves with 70. Both directions; every check on the
-- decrypted far leg, each probe told apart by its body.
local sip = require("sip")

-- the copy of the probe on the far leg, and its Max-Forwards there. A probe is told apart by
-- its body, not its Call-ID: an edge that hides topology (Kamailio's topoh) rewrites the
-- Call-ID on the way out. Waits up to 5 s for it to show; fails when it never crossed.
local function far_copies(lab, leg, body)
  local found = {}
  for _, m in ipairs(lab.capture:sip{ leg = leg, method = "MESSAGE" }) do
    if m.text:find(body, 1, true) then found[#found + 1] = m end
  end
  return found
end
local function crossed(lab, leg, body)
  for _ = 1, 100 do
    local found = far_copies(lab, leg, body)
    if #found > 0 then
      expect_eq(#found, 1, "copies of the probe '" .. body .. "' on the " .. leg .. " leg", found[2])
      return sip.header(found[1].text, "Max-Forwards"), found[1]
    end
    lab:sleep(0.05)
  end
  fail("the probe '" .. body .. "' never crossed the " .. leg .. " leg")
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
    expect_eq(#far_copies(lab, "external", "should not leave"), 0, "copies of the Max-Forwards 0 probe on the external leg")
    r = inward("mf-zero-in@probe", "0", "should not come in")
    expect_eq(r.final and r.final.status, 483, "response to an inbound MESSAGE with Max-Forwards 0")
    expect_eq(#far_copies(lab, "internal", "should not come in"), 0, "copies of the inbound Max-Forwards 0 probe on the internal leg")

    -- 7: decremented to 6
    r = out("mf-seven-out@probe", "7", "seven hops left")
    expect(r.final, "a final response to a MESSAGE with Max-Forwards 7")
    expect_eq(r.final.status, 200, "response to the MESSAGE with Max-Forwards 7")
    expect_eq(crossed(lab, "external", "seven hops left"), "6", "Max-Forwards 7 on the external leg")
    bob:expect_message{ contains = "seven hops left" }

    -- 1: one hop left is the proxy's to use: it forwards with 0, it does not answer 483 itself
    -- (whatever the next hop then answers)
    r = out("mf-one-out@probe", "1", "one hop left outward")
    expect(r.final, "a final response to a MESSAGE with Max-Forwards 1")
    log("Max-Forwards 1 outward answered " .. r.final.status)
    expect_eq(crossed(lab, "external", "one hop left outward"), "0",
      "Max-Forwards 1 forwarded on the external leg as 0 (answered " .. tostring(r.final and r.final.status) .. ")")
    r = inward("mf-one-in@probe", "1", "one hop left inward")
    expect(r.final, "a final response to an inbound MESSAGE with Max-Forwards 1")
    expect_eq(crossed(lab, "internal", "one hop left inward"), "0",
      "inbound Max-Forwards 1 forwarded on the internal leg as 0 (answered " .. tostring(r.final and r.final.status) .. ")")

    -- absent: the proxy adds 70 (16.6 step 3) and forwards; it is not a 0
    r = out("mf-absent-out@probe", "absent", "no Max-Forwards at all")
    expect_eq(r.final and r.final.status, 200, "response to a MESSAGE without Max-Forwards")
    expect_eq(crossed(lab, "external", "no Max-Forwards at all"), "70",
      "Max-Forwards on the external leg of a MESSAGE that had none")
    bob:expect_message{ contains = "no Max-Forwards at all" }
  end,
}
