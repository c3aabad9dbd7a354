-- ROB-003: an accepted connection that carries no complete message for idle_timeout_ms is
-- closed (it holds a descriptor and memory for nothing), and one that keeps carrying messages
-- is not, however long it lives. The proxy watches every connection with one sweep ordered by
-- last activity, so this checks both ends of that order: the idle ones at the back go, the
-- busy one that moves to the front each time stays.
local IDLE_MS = 2000

return scenario {
  title  = "Idle provider connections close after idle_timeout_ms; a busy one stays open",
  covers = { "ROB-003" },
  tags   = { "robustness" },
  sut_kinds = { "accessproxy" },
  lab    = { sut_limits = { idle_timeout_ms = IDLE_MS } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local aol = lab.provider("aol")
    local bob = aol:user("bob@aol.test")
    alice:allow(bob)

    -- three idle connections from AOL's address, besides the one its server sends on
    local held = aol:hold_connections(3)
    expect_eq(held:up(), 3, "idle connections up at first")

    -- bob sends every 0.5 s for 4.5 s: more than twice the idle time on one connection
    local sent = 0
    for i = 1, 10 do
      expect_eq(bob:send_message(alice, "keep-alive #" .. i), 200, "MESSAGE #" .. i)
      sent = sent + 1
      if i == 2 then
        -- about 0.5 s in: nothing has been idle long enough yet
        expect_eq(held:up(), 3, "idle connections still up well before idle_timeout_ms")
      end
      lab:sleep(0.5)
    end
    for i = 1, sent do alice:expect_message{ from = bob, contains = "keep-alive #" .. i } end

    -- the held ones carried nothing for over twice the limit: the proxy closed each
    expect_eq(held:up(), 0, "idle connections still up after " .. (2 * IDLE_MS) .. " ms idle")
    local status = lab.sut:ctl("status")
    local closes = tonumber((status or ""):match('"idle_closes":(%d+)'))
    expect(closes and closes >= 3, "apctl status counts the idle closes (idle_closes >= 3)", status)
    held:release()

    -- the busy connection: all ten MESSAGEs and their answers crossed one connection, which
    -- a proxy closing by age rather than idleness would have cut at least once
    local best = 0
    for _, f in ipairs(lab.capture:flows{ leg = "external" }) do
      if f.sip_msgs and f.sip_msgs > best then best = f.sip_msgs end
    end
    expect(best >= 2 * sent,
      "one external connection carried all " .. sent .. " MESSAGEs and their answers (most on one: " ..
      best .. ")")
  end,
}
