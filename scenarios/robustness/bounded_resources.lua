-- ROB-003: partial messages, oversized headers and bodies, and many connections stay within
-- bounded memory; the per-address connection cap holds; other peers keep being served.
local sip = require("sip")

local function rss_kb(pid)
  local f = io.open("/proc/" .. pid .. "/status", "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

return scenario {
  title  = "Connection cap per address, oversized headers and bodies, partial messages: bounded, others served",
  covers = { "ROB-003" },  -- IM-004 (the proxy's own 413) is judged in im/proxy_size_limit.lua
  tags   = { "robustness", "load" },
  timeout = 60,
  run = function(lab)
    local dave = lab.enterprise:user("dave@contoso.test")
    local carol = lab.provider("yahoo"):user("carol@yahoo.test")
    dave:allow(carol)
    local aol = lab.provider("aol")
    local pid = lab.sut:pid()
    local before = rss_kb(pid)

    -- 1. many connections from one address: the cap (32 per address) holds
    local held = aol:hold_connections(48, { timeout = 5 })
    lab:sleep(0.5)
    log(string.format("held: %d up, %d refused", held:up(), held:refused()))
    expect(held:up() >= 1 and held:up() <= 32, "at most 32 connections from AOL's address, got " .. held:up())
    expect(held:refused() >= 16, "the connections beyond the cap refused, got " .. held:refused())
    local during = rss_kb(pid)
    -- another address is not affected by AOL's cap
    expect_eq(carol:send_message(dave, "while AOL holds its connections"), 200, "Yahoo! MESSAGE during the cap")
    dave:expect_message{ from = carol }
    held:release()

    -- 2. an oversized header line and an oversized body: refused, nothing crosses
    local huge = sip.request{ from = "bob@aol.test", to = "dave@contoso.test",
      headers = { "X-Huge: " .. string.rep("h", 20000) }, body = "big header" }
    local r = aol:send_raw(huge, { timeout = 2 })
    expect(r.closed or (r.final and r.final.status >= 400),
      "a 20 kB header line refused (400/413/494 or closed), got " .. tostring(r.final and r.final.status))
    -- 70 kB is over the 64 KiB framing limit: a closed connection is a fair answer here (the
    -- proxy's own 413 below that limit is judged in im/proxy_size_limit.lua)
    local big = sip.request{ from = "bob@aol.test", to = "dave@contoso.test", body = string.rep("b", 70000) }
    r = aol:send_raw(big, { timeout = 2 })
    expect(r.closed or (r.final and r.final.status == 413),
      "a 70 kB body refused (413 or closed), got " .. tostring(r.final and r.final.status))
    lab.capture:expect{ leg = "internal", method = "MESSAGE", from = "bob@aol.test", count = 0 }

    -- 3. partial messages left hanging: the proxy keeps serving
    for i = 1, 20 do
      local part = sip.request{ from = "bob@aol.test", to = "dave@contoso.test", body = "partial " .. i }
      aol:send_raw(part:sub(1, #part // 2), { timeout = 0.05 })
    end
    expect_eq(carol:send_message(dave, "after the partial messages"), 200, "Yahoo! MESSAGE after partial messages")
    dave:expect_message{ from = carol }

    local after = rss_kb(pid)
    log(string.format("accessproxy RSS: %s kB before, %s kB with the connections held, %s kB after",
      tostring(before), tostring(during), tostring(after)))
    if lab.sanitized then
      log("sanitizer build: memory bounds not judged (redzones and quarantine inflate RSS)")
    elseif before and during and after then
      expect(during - before < 32 * 200, string.format("memory for 32 held connections bounded (< 6400 kB), grew %d kB", during - before))
      expect(after - before < 8192, string.format("memory back within 8 MB of the start, grew %d kB", after - before))
    end
    expect(lab.sut:running(), "accessproxy alive")
  end,
}
