-- ROB-004: a flooding provider is throttled (503 with Retry-After) without affecting others;
-- the answers to what it sent still flow back to it.
local sip = require("sip")

return scenario {
  title  = "AOL floods 3000 MESSAGEs at once: throttled with 503 + Retry-After, every request answered, Yahoo! unaffected",
  covers = { "ROB-004" },
  tags   = { "robustness", "load" },
  timeout = 90,
  -- a low limit, so that the flood outruns it however fast this machine (or build) is:
  -- 200 at once plus 100 a second cannot cover 3000 requests within the flood's 30 s
  lab    = { sut_rate = { per_sec = 100, burst = 200 } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local dave = lab.enterprise:user("dave@contoso.test")
    local carol = lab.provider("yahoo"):user("carol@yahoo.test")
    dave:allow(carol)
    alice:allow(lab.provider("aol"):user("bob@aol.test"))
    local tpl = sip.request{ from = "bob@aol.test", to = "alice@contoso.test",
      call_id = "flood-{n}@aol.test", body = "flood" }
    -- the flood and another provider's traffic at the same time
    local r
    lab:parallel(
      function() r = lab.provider("aol"):flood(tpl, 3000, { timeout = 30 }) end,
      function()
        for i = 1, 5 do
          expect_eq(carol:send_message(dave, "not affected " .. i), 200, "Yahoo! MESSAGE " .. i .. " during the flood")
          dave:expect_message{ from = carol, contains = "not affected " .. i }
        end
      end)
    log(string.format("flood: sent %d, answered %d, 200 %d, 503 %d (Retry-After on %d), closed %s",
      r.sent, r.answered, r.ok, r.throttled, r.retry_after, tostring(r.closed)))
    expect_eq(r.sent, 3000, "requests sent")
    expect_eq(r.answered, r.sent, "final answers that came back to the flooding provider")
    expect(r.throttled > 0, "some of the flood throttled with 503")
    expect_eq(r.retry_after, r.throttled, "503s carrying Retry-After")
    expect(r.ok > 0, "some of the flood delivered (the allowance before throttling)")
    expect(not r.closed, "the flooding provider's connection kept open (answers still flow)")
    expect(lab.sut:running(), "accessproxy alive after the flood")
  end,
}
