-- ROB-002, ROB-001: every case of the PROTOS-style generator (scenarios/lib/protos.lua: each
-- element of a MESSAGE -- request line, header parts, lengths, body, encodings -- replaced in
-- turn by boundary numbers, format strings, overflows, control and 8-bit bytes; then one more
-- header field or From/To/Via parameter holding each of them), sent by AOL to
-- the external edge over mutual TLS. Each case is judged: a 4xx, or no answer where the rules
-- allow one (the damaged element is what an answer needs: top Via, CSeq, start line, framing);
-- never a 5xx; whatever the proxy lets in is well-formed (scenarios/lib/inward.lua); the proxy
-- stays alive, keeps serving another provider, and its memory stays flat.
-- PROTOS_FIRST / PROTOS_LAST (environment) run a slice of the cases, for replaying one.
local protos = require("protos")
local inward = require("inward")

local function rss_kb(pid)
  local f = io.open("/proc/" .. pid .. "/status", "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

-- printable, one line: what was sent or came back, for the log and the failures file
local function show(s, max)
  s = s:sub(1, max or 400):gsub("[^\32-\126]", function(c)
    return c == "\r" and "\\r" or c == "\n" and "\\n" or string.format("\\x%02x", c:byte())
  end)
  return s
end

return scenario {
  title  = "PROTOS-style generated requests (>= 5,000): 4xx or a rule-based drop, never 5xx, nothing malformed inward",
  covers = { "ROB-002", "ROB-001", "ROB-003" },
  tags   = { "robustness", "fuzz", "protos" },
  timeout = 2400,
  waive  = {
    { "well-formed", flow = "sip.aol.test -> ap.contoso.test", why = "the generated requests are malformed on purpose" },
    { "transactions-end", flow = "sip.aol.test -> ap.contoso.test", why = "malformed requests are refused or dropped" },
    { "decrypted", flow = "sip.aol.test -> ap.contoso.test",
      why = "a droppable case's short wait may end while its TLS handshake is under way (load): that connection has no keys; nothing is judged on the external leg" },
  },
  run = function(lab)
    local g = protos.new{ from = "bob@aol.test", to = "alice@contoso.test", via_host = "sip.aol.test" }
    local first = tonumber(os.getenv("PROTOS_FIRST") or "") or 1
    local last = math.min(tonumber(os.getenv("PROTOS_LAST") or "") or g:count(), g:count())
    local all = first == 1 and last == g:count()
    if all then expect(g:count() >= 5000, "at least 5,000 cases, the generator has " .. g:count()) end
    local alice = lab.enterprise:user("alice@contoso.test")
    local carol = lab.provider("yahoo"):user("carol@yahoo.test")
    alice:allow(carol)
    local aol = lab.provider("aol")
    local pid = lab.sut:pid()
    local failures, verdicts, by_case = {}, {}, {}
    local start_kb

    local function failed(c, got)
      failures[#failures + 1] = { c = c, got = got }
    end

    for i = first, last do
      local c = g:case(i)
      by_case[i] = c
      -- an answerable case returns with its answer, so it can be given time; a case the rules
      -- let the proxy drop waits briefly (600-odd of them), a drop being silence
      local r = aol:send_raw(c.text, { timeout = c.drop_ok and 0.3 or 5 })
      local st = r.final and r.final.status
      local got = st and (st .. " " .. (r.final.reason or "")) or (r.closed and "no answer, connection closed" or "no answer")
      local v = st and (st >= 500 and "5xx" or st >= 400 and "4xx" or "forwarded") or "drop"
      verdicts[v] = (verdicts[v] or 0) + 1
      if st and r.final.unparsable and not c.drop_ok then
        -- the proxy's own answer must be SIP a peer can read (issue 11 item 3); where the
        -- damaged element is one an answer must copy (top Via, CSeq), dropping was the choice
        failed(c, got .. ", an answer libosip2 cannot parse: " .. show(r.final.text, 500))
      elseif st and st >= 500 then
        failed(c, got .. (r.final.text and (": " .. show(r.final.text, 300)) or ""))
      elseif not st and not c.drop_ok then
        failed(c, got .. " (an answerable request: a 400 with a reason is due)")
      end
      if not lab.sut:running() then
        failed(c, "the proxy died")
        break
      end
      if i == first + 199 then start_kb = rss_kb(pid) end  -- after a warm-up
      if (i - first) % 1000 == 999 then                     -- another provider served meanwhile
        expect_eq(carol:send_message(alice, "still served " .. i), 200, "Yahoo! MESSAGE after case " .. i)
        alice:expect_message{ from = carol }
        log(string.format("case %d: %s", i, show(
          string.format("4xx %d, drop %d, forwarded %d, 5xx %d", verdicts["4xx"] or 0,
            verdicts.drop or 0, verdicts.forwarded or 0, verdicts["5xx"] or 0))))
      end
    end
    local end_kb = rss_kb(pid)

    -- nothing malformed crossed inward: every request the proxy sent the home server
    local ip = lab.addr["ap-int.contoso.test"]
    local nin = 0
    for _, m in ipairs(lab.capture:sip{ leg = "internal" }) do
      if m.request and m.src:sub(1, #ip + 1) == ip .. ":" and m.method ~= "ACK" then
        nin = nin + 1
        local why = m.unparsable and "libosip2 cannot parse it" or inward.problem(m.text)
        if why then
          local n = tonumber(m.text:match("\r\n\r\nhello (%d+)$") or m.text:match("tag=(%d+)f"))
          local c = n and by_case[n] or { n = 0, element = "?", anomaly = "?", text = "" }
          failed(c, "forwarded inward although " .. why .. ": " .. show(m.text, 600))
        end
      end
    end
    log(string.format("%d cases: 4xx %d, rule-based drop %d, forwarded %d (%d requests inward), 5xx %d",
      last - first + 1, verdicts["4xx"] or 0, verdicts.drop or 0, verdicts.forwarded or 0, nin,
      verdicts["5xx"] or 0))
    log(string.format("accessproxy RSS: %s kB after the warm-up, %s kB at the end",
      tostring(start_kb), tostring(end_kb)))

    -- the failures, case by case, for whoever fixes them
    local f = io.open(lab.dir .. "/protos-failures.txt", "w")
    if f then
      for _, x in ipairs(failures) do
        f:write(string.format("case %d [%s <- %s]\n  sent: %s\n  got:  %s\n", x.c.n, x.c.element,
          x.c.anomaly, show(x.c.text, 700), show(x.got, 900)))
      end
      f:close()
    end
    expect(lab.sut:running(), "accessproxy alive after the generated cases")
    if lab.sanitized then
      log("sanitizer build: memory not judged (redzones and quarantine inflate RSS)")
    elseif start_kb and end_kb and all then
      expect(end_kb - start_kb < 16384, string.format(
        "memory flat over the cases (< 16 MB growth after the warm-up), grew %d kB", end_kb - start_kb))
    end
    if #failures > 0 then
      local some = {}
      for k = 1, math.min(5, #failures) do
        local x = failures[k]
        some[#some + 1] = string.format("case %d (%s <- %s): %s", x.c.n, x.c.element, x.c.anomaly,
          show(x.got, 160))
      end
      fail(string.format("%d of %d case(s) mishandled (all in protos-failures.txt): %s", #failures,
        last - first + 1, table.concat(some, "; ")))
    end
  end,
}
