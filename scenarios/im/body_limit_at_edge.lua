-- IM-004: the proxy's own body limit (32 KiB): a MESSAGE one byte over it is refused 413 by
-- the proxy itself and goes no further; one exactly at it is delivered. Inbound, where the
-- enterprise home server has no limit of its own, so only the proxy can answer 413.
local sip = require("sip")
local LIMIT = 32 * 1024

return scenario {
  title  = "The proxy's body limit: limit+1 bytes get its 413 and stay out, the limit passes",
  covers = { "IM-004" },
  run = function(lab)
    local aol = lab.provider("aol")
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = aol:user("bob@aol.test")
    alice:allow(bob) -- unverified AOL IM reaches alice only from her allow list (TRUST-007)
    local over = sip.request{ from = "bob@aol.test", to = "alice@contoso.test", via_host = "sip.aol.test",
      call_id = "over-limit@aol.test", body = string.rep("o", LIMIT + 1) }
    local r = aol:send_raw(over, { timeout = 5 })
    expect(r.final, "a final answer to a MESSAGE one byte over the limit")
    expect_eq(r.final.status, 413, "answer to a body of limit+1 bytes")
    lab.capture:expect{ leg = "internal", call_id = "over-limit@aol.test", count = 0 }
    local at = sip.request{ from = "bob@aol.test", to = "alice@contoso.test", via_host = "sip.aol.test",
      call_id = "at-limit@aol.test", body = "at-limit " .. string.rep("a", LIMIT - 9) }
    r = aol:send_raw(at, { timeout = 5 })
    expect(r.final, "a final answer to a MESSAGE exactly at the limit")
    expect_eq(r.final.status, 200, "answer to a body of exactly the limit")
    alice:expect_message{ contains = "at-limit " }
  end,
}
