-- ROB-005: a provider that drops its connection mid-transaction yields a prompt failure to the
-- sender, and the proxy reconnects. The failure is the proxy's own final answer (503 naming the
-- drop in a Warning of ap.contoso.test, or 408), given within PROMPT_S of the MESSAGE leaving on
-- the external leg: far below Timer F (32 s), the answer a proxy that ignored the drop would
-- give. A provider's own 503 is relayed as it came (its Retry-After, no Warning of ours), so
-- the two answers can be told apart on the internal leg.
local PROMPT_S = 3

local function marker(tag)
  return tag .. "-" .. math.random(100000, 999999)
end

-- the capture's copy of the MESSAGE carrying body text on a leg, and the final answer to it
-- on the same leg (by Call-ID, which is per leg)
local function exchange(lab, leg, body)
  local req
  for _, m in ipairs(lab.capture:sip{ leg = leg, method = "MESSAGE" }) do
    if m.request and m.text:find(body, 1, true) then req = m end
  end
  expect(req, "the MESSAGE '" .. body .. "' on the " .. leg .. " leg")
  local final
  for _, m in ipairs(lab.capture:sip{ leg = leg, call_id = req.call_id }) do
    if not m.request and m.status and m.status >= 200 then final = final or m end
  end
  return req, final
end

-- a header's value, its name in any case (the proxy may rewrite "Retry-After" as "Retry-after")
local function header(text, name)
  local lower = text:lower()
  local i, j = lower:find("\n" .. name:lower():gsub("%W", "%%%0") .. "%s*:%s*")
  return i and text:sub(j + 1):match("^[^\r\n]*") or nil
end

return scenario {
  title  = "provider faults: its 503 relayed as it came; a dropped connection answered by the proxy at once, then a new connection",
  covers = { "ROB-005" },
  tags   = { "workers" },
  waive  = {
    { "transactions-end", flow = "ap.contoso.test -> sip.aol.test",
      why = "AOL drops the connection under MESSAGE 'two' on purpose" },
  },
  timeout = 60, -- a proxy that ignored the drop answers only at Timer F (32 s): judged below
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local aol   = lab.provider("aol")
    local bob   = aol:user("bob@aol.test")
    local ours  = "399 ap.contoso.test"

    -- the provider's own 503: relayed unchanged, with its Retry-After and no Warning of ours
    aol:fault{ respond = 503, method = "MESSAGE" }
    local one = marker("relayed")
    local st = alice:send_message(bob, one)
    expect_eq(st, 503, "response while AOL answers 503")
    local _, relayed = exchange(lab, "internal", one)
    expect(relayed, "a final answer to '" .. one .. "' on the internal leg")
    expect_eq(relayed.status, 503, "status alice got for the provider's 503")
    expect(header(relayed.text, "Retry-After"), "the provider's Retry-After relayed:\n" .. relayed.text)
    expect(not relayed.text:find(ours, 1, true),
      "no Warning of the proxy on a 503 the provider gave:\n" .. relayed.text)
    aol:clear_faults()

    -- the provider drops the connection the MESSAGE came on: the proxy answers for it at once
    local flows_before = #lab.capture:flows{ leg = "external" }
    aol:fault{ drop_next_connection = true, method = "MESSAGE" }
    local two = marker("dropped")
    local reason
    st, reason = alice:send_message(bob, two)
    expect(st, "a final answer to the MESSAGE whose connection was dropped, got none: " .. tostring(reason))
    expect(st == 503 or st == 408 or (st and st >= 500 and st < 600),
      "a failure status (5xx or 408) for the dropped MESSAGE, got " .. tostring(st))
    local out = exchange(lab, "external", two)
    local _, final = exchange(lab, "internal", two)
    expect(final, "the proxy's final answer to '" .. two .. "' on the internal leg")
    local took = final.time - out.time
    log(string.format("dropped connection: %d %s %.3f s after the MESSAGE left", final.status,
      header(final.text, "Warning") or "", took))
    expect(took >= 0 and took <= PROMPT_S, string.format(
      "the failure within %d s of the MESSAGE reaching the dropping provider, took %.3f s", PROMPT_S, took))
    local warning = header(final.text, "Warning") or ""
    local own = warning:find(ours, 1, true) ~= nil
    expect(final.status == 408 or (own and (final.status == 503 or header(final.text, "Retry-After"))),
      "the proxy's own answer (408, 503 with its Warning, or 5xx with Retry-After), got:\n" .. final.text)
    expect(own, "the answer is the proxy's own: a Warning of ap.contoso.test, got '" .. warning .. "'")
    expect(final.text ~= relayed.text and header(final.text, "To") ~= header(relayed.text, "To"),
      "the proxy's answer is not the provider's relayed 503")
    expect_eq(bob:inbox_count(), 0, "messages bob received (the dropped one never reached him)")

    -- the proxy reconnects: the next MESSAGE goes through on a new connection
    expect_eq(alice:send_message(bob, "three"), 200, "response after the proxy reconnected")
    bob:expect_message{ contains = "three" }
    expect(#lab.capture:flows{ leg = "external" } > flows_before,
      "a new external connection after the drop")
  end,
}
