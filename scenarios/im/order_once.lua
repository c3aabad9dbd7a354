-- IM-003: messages arrive in order and exactly once, retransmissions included (RFC 3261 17.2.2:
-- a stateful proxy's server transaction absorbs a retransmitted request and repeats its answer).
local sip = require("sip")

return scenario {
  title  = "30 MESSAGEs arrive in order and once each; a retransmitted MESSAGE is delivered once",
  covers = { "IM-003" },
  tags   = { "im" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    for i = 1, 30 do
      expect_eq(alice:send_message(bob, string.format("in order #%02d", i)), 200, "MESSAGE #" .. i)
    end
    for i = 1, 30 do
      bob:expect_message{ from = alice, contains = string.format("in order #%02d", i) }
    end
    expect_eq(bob:inbox_count(), 0, "messages bob got beyond the 30 sent")
    local out = lab.capture:sip{ leg = "external", method = "MESSAGE" }
    expect_eq(#out, 30, "MESSAGEs on the external leg")
    local seen = {}
    for _, m in ipairs(out) do
      expect(not seen[m.call_id], "each Call-ID once on the external leg: " .. m.call_id)
      seen[m.call_id] = true
    end

    -- the same request twice (same branch, Call-ID, CSeq): a retransmission
    local text = sip.request{ from = "alice@contoso.test", to = "bob@aol.test",
      via_host = "pool.contoso.test", call_id = "retransmitted-1@probe.invalid",
      body = "retransmitted once" }
    local r1 = lab.enterprise:send_raw(text)
    local r2 = lab.enterprise:send_raw(text)
    expect(r1.final and r1.final.status == 200, "200 to the first copy")
    expect(r2.final and r2.final.status == 200, "200 (repeated) to the retransmission")
    bob:expect_message{ contains = "retransmitted once" }
    lab:sleep(0.3)
    expect_eq(bob:inbox_count(), 0, "copies of the retransmitted MESSAGE bob got beyond the first")
    lab.capture:expect{ leg = "external", method = "MESSAGE", call_id = "retransmitted-1@probe.invalid", count = 1 }
  end,
}
