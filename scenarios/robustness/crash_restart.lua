-- ROB-006 / AUD-004: killed with -9 under load and restarted, the proxy has lost no configuration
-- and no acknowledged audit or archive record, and serves again.
-- The load at the kill: floods of MESSAGEs on four connections from the enterprise (two towards
-- AOL, answered at once, two towards Yahoo!, whose answers are held 8 s, so hundreds are open),
-- a sender going one MESSAGE after another, critical archiving on (a MESSAGE is forwarded only
-- once its record is durable) and configuration changes made with apctl a moment before the
-- kill. After the restart: every MESSAGE the enterprise had a 200 for is in the audit as
-- forwarded and in the archive with its body; no MESSAGE without a 200 is on record with a
-- 200; the changes are all there; and MESSAGEs flow again.
local sip = require("sip")

-- bodies near each provider's limit (AOL 2048, Yahoo! 8192 bytes): the archive has real work
local FLOODS = {
  { from = "alice@contoso.test", to = "bob@aol.test", tag = "aol-a", count = 150, size = 1900 },
  { from = "carol@contoso.test", to = "bob@aol.test", tag = "aol-c", count = 150, size = 1900 },
  { from = "alice@contoso.test", to = "pat@yahoo.test", tag = "yahoo-a", count = 130, size = 8000 },
  { from = "dave@contoso.test", to = "pat@yahoo.test", tag = "yahoo-d", count = 130, size = 8000 },
}
local IN_FLIGHT_MIN = 200
local KILL_AT_ACKS = 20

local function body(f)
  local head = "crash body " .. f.tag .. " "
  return head .. string.rep("x", f.size - #head)
end

local function template(f)
  return sip.request{ from = f.from, to = f.to, call_id = "crash-" .. f.tag .. "-{n}@contoso.test",
    via_host = "pool.contoso.test", body = body(f),
    headers = { "Via: SIP/2.0/TLS pool.contoso.test:5061;branch=z9hG4bKcrash" .. f.tag .. "x{n}" } }
end

-- { [call_id] = { ... } } of an apctl JSON listing (audit or archive list)
local function by_call_id(lab, what, ...)
  local rc, out = lab:apctl(...)
  expect_eq(rc, 0, "apctl " .. what .. " after the restart")
  local t = {}
  for obj in out:gmatch("{(.-)}") do
    local cid = obj:match('"call_id":"([^"]*)"')
    if cid then t[cid] = obj end
  end
  return t
end

return scenario {
  title  = "kill -9 with hundreds of MESSAGEs in flight on four connections, critical archiving, fresh config changes: every acknowledged one on record after the restart, nothing unacknowledged reported delivered, config kept, serving again",
  covers = { "ROB-006", "AUD-004" },
  tags   = { "robustness", "audit", "load", "workers" },
  -- the proxy is killed with hundreds of MESSAGEs open on purpose: those flows end unanswered
  waive  = {
    { "transactions-end", flow = "pool.contoso.test -> ap-int.contoso.test",
      why = "the enterprise's MESSAGEs open at the kill -9 never get their answer" },
    { "transactions-end", flow = "ap.contoso.test -> sip.aol.test",
      why = "MESSAGEs forwarded to AOL just before the kill -9 are answered to a dead proxy" },
    { "transactions-end", flow = "ap.contoso.test -> sip.yahoo.test",
      why = "Yahoo! holds its answers 8 s: the MESSAGEs forwarded to it are open at the kill -9" },
  },
  timeout = 90,
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    lab.provider("yahoo"):user("pat@yahoo.test")
    local rc, out = lab:apctl("settings", "set", "archive_critical", "yes")
    expect_eq(rc, 0, "apctl settings set archive_critical yes (" .. out .. ")")
    rc, out = lab:apctl("settings", "set", "archive", "on")
    expect_eq(rc, 0, "apctl settings set archive on (" .. out .. ")")
    lab.provider("yahoo"):fault{ method = "MESSAGE", delay_ms = 8000 }

    local results, acked_seq, unacked_seq = {}, {}, {}
    local killed = false
    local old = lab.sut:pid()
    local branches = {}
    -- one MESSAGE after another until the kill
    branches[#branches + 1] = function()
      local i = 0
      while not killed do
        i = i + 1
        local text = "one by one " .. i
        local st = alice:send_message(bob, text)
        if st == 200 then acked_seq[#acked_seq + 1] = text else unacked_seq[#unacked_seq + 1] = text end
      end
    end
    branches[#branches + 1] = function()
      while #acked_seq < 5 do lab:sleep(0.01) end
      -- configuration changes, each committed by apctl and reloaded, just before the crash
      local changes = {
        { "providers", "disallow", "msn" },
        { "users", "enable", "eve@contoso.test" },
        { "users", "archive", "dave@contoso.test" },
        { "settings", "set", "mark_outbound_verifiable", "yes" },
      }
      for _, c in ipairs(changes) do
        local crc, cout = lab:apctl(table.unpack(c))
        expect_eq(crc, 0, "apctl " .. table.concat(c, " ") .. " under load (" .. cout .. ")")
      end
      -- the floods, on four connections at once: Yahoo!'s held open there until after the
      -- kill, AOL's answered at once; the kill comes while AOL's 200s stream back, so nothing
      -- gets a moment to settle between an acknowledgement and the crash
      local running = {}
      for i, f in ipairs(FLOODS) do
        running[i] = lab.enterprise:flood_start(template(f), f.count, { timeout = 30, answers = true })
      end
      local function acks()
        local n = 0
        for _, fl in pairs(running) do n = n + fl:ok() end
        return n
      end
      while acks() < KILL_AT_ACKS do lab:sleep(0.001) end
      killed = true
      local new = lab.sut:restart{ signal = 9 }
      expect(new ~= old, "a new accessproxy process after the crash")
      for i, fl in pairs(running) do results[i] = fl:wait() end
    end
    lab:parallel(table.unpack(branches))
    lab.provider("yahoo"):clear_faults()

    -- what the enterprise was told
    local acked, unacked, sent = {}, {}, 0
    for i, f in ipairs(FLOODS) do
      local r = results[i]
      log(string.format("flood %s: sent %d, answered %d, 200 %d, closed %s", f.tag, r.sent,
        r.answered, r.ok, tostring(r.closed)))
      sent = sent + r.sent
      for n = 1, r.sent do
        local cid = "crash-" .. f.tag .. "-" .. n .. "@contoso.test"
        if r.answers[cid] == 200 then acked[cid] = f else unacked[cid] = f end
      end
    end
    local nacked, nunacked = 0, 0
    for _ in pairs(acked) do nacked = nacked + 1 end
    for _ in pairs(unacked) do nunacked = nunacked + 1 end
    log(string.format("at the kill: %d flood MESSAGEs sent, %d acknowledged, %d not; one by one: %d acknowledged",
      sent, nacked, nunacked, #acked_seq))
    expect(nacked + #acked_seq > 0, "some MESSAGEs acknowledged with 200 before the kill")

    -- in flight at the kill: reached the proxy (on the internal leg) and never answered there
    local answered_int = {}
    for _, m in ipairs(lab.capture:sip{ leg = "internal", method = "MESSAGE" }) do
      if not m.request and m.status and m.status >= 200 then answered_int[m.call_id] = true end
    end
    local in_flight = 0
    for _, m in ipairs(lab.capture:sip{ leg = "internal", method = "MESSAGE" }) do
      if m.request and unacked[m.call_id] and not answered_int[m.call_id] then
        in_flight = in_flight + 1
        answered_int[m.call_id] = true -- count each once
      end
    end
    expect(in_flight >= IN_FLIGHT_MIN, string.format(
      "at least %d MESSAGEs in flight (at the proxy, unanswered) at the kill, found %d", IN_FLIGHT_MIN, in_flight))

    -- configuration: every change kept
    rc, out = lab:apctl("--json", "providers", "list")
    local msn = out:match('{"name":"msn"[^}]*}') or ""
    expect(msn:find('"allowed":false', 1, true), "msn still disallowed after the crash: " .. msn)
    rc, out = lab:apctl("--json", "users", "list")
    local eve = out:match('{"aor":"eve@contoso.test"[^}]*}') or ""
    expect(eve:find('"enabled":true', 1, true), "eve still enabled after the crash: " .. eve)
    local dave = out:match('{"aor":"dave@contoso.test"[^}]*}') or ""
    expect(dave:find('"archive":true', 1, true), "dave's archive flag kept after the crash: " .. dave)
    rc, out = lab:apctl("settings", "list")
    expect(out:find("mark_outbound_verifiable%s+yes"), "mark_outbound_verifiable yes kept:\n" .. out)

    -- audit and archive: every acknowledged MESSAGE on record, nothing unacknowledged as delivered
    local audit = by_call_id(lab, "audit", "audit", "--limit", "0", "--json")
    -- (only AOL's: every acknowledged MESSAGE went there, and Yahoo!'s bodies are large)
    local archive = by_call_id(lab, "archive list", "archive", "list", "--provider", "aol", "--limit", "0", "--json")
    local missing_audit, missing_archive, wrong = {}, {}, {}
    for cid, f in pairs(acked) do
      local a = audit[cid]
      if not a or not a:find('"decision":"forwarded"', 1, true) then missing_audit[#missing_audit + 1] = cid end
      local r = archive[cid]
      if not r or not r:find('"body":"' .. body(f) .. '"', 1, true) then
        missing_archive[#missing_archive + 1] = cid
      end
    end
    for cid in pairs(unacked) do
      local a = audit[cid]
      if a and a:find('"status":200', 1, true) then wrong[#wrong + 1] = cid end
    end
    -- critical archiving: nothing leaves unrecorded, so every MESSAGE seen on the external
    -- leg before the kill (answered or not) is in the audit and the archive after it
    local left, unrecorded = 0, {}
    for _, m in ipairs(lab.capture:sip{ leg = "external", method = "MESSAGE" }) do
      if m.request and m.call_id and m.call_id:find("^crash%-") then
        left = left + 1
        local a = audit[m.call_id]
        if not a or a:find('"archived":"no"', 1, true) then unrecorded[#unrecorded + 1] = m.call_id end
      end
    end
    log(string.format("%d flood MESSAGEs had left on the external leg at the kill", left))
    expect(#unrecorded == 0, string.format("every MESSAGE that left before the kill is audited and archived (critical archiving); %d of %d not: %s",
      #unrecorded, left, table.concat(unrecorded, " ", 1, math.min(#unrecorded, 10))))
    table.sort(missing_audit)
    table.sort(missing_archive)
    expect(#missing_audit == 0, string.format("all %d acknowledged MESSAGEs audited as forwarded after kill -9; missing %d: %s",
      nacked, #missing_audit, table.concat(missing_audit, " ", 1, math.min(#missing_audit, 10))))
    expect(#missing_archive == 0, string.format("all %d acknowledged MESSAGEs archived with their body after kill -9; missing %d: %s",
      nacked, #missing_archive, table.concat(missing_archive, " ", 1, math.min(#missing_archive, 10))))
    expect(#wrong == 0, "no MESSAGE left without a 200 is on record as answered 200: " ..
      table.concat(wrong, " ", 1, math.min(#wrong, 10)))
    -- the one-by-one sender's: each acknowledged body is in the archive
    local bodies = {}
    for _, obj in pairs(archive) do
      local b = obj:match('"body":"([^"]*)"')
      if b then bodies[b] = true end
    end
    for _, text in ipairs(acked_seq) do
      expect(bodies[text], "acknowledged MESSAGE '" .. text .. "' archived after kill -9")
    end

    -- serving again (to a user whose inbox holds nothing of the load)
    local sam = lab.provider("aol"):user("sam@aol.test")
    expect_eq(alice:send_message(sam, "after the crash"), 200, "MESSAGE after the restart")
    sam:expect_message{ from = alice, contains = "after the crash" }
  end,
}
