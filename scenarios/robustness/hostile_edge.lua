-- Issue 11: hostile traffic from a provider costs nobody else's messages, and nothing malformed
-- gets inside. Client errors get 4xx (never 5xx) with a reason; the connection survives a bad
-- message whose framing holds, and the answers to the other requests on it arrive; nothing
-- malformed crosses the internal leg (decrypted capture); logs and responses carry no raw
-- control bytes; oversized input gets 413/513; an incomplete message is dropped at its deadline.
local sip = require("sip")

local ALICE, BOB = "alice@contoso.test", "bob@aol.test"

-- One request from bob to alice, marked with case id in an extra header, one line changed by
-- edit(text) (a function returning the new text).
local function hostile(id, edit, t)
  t = t or {}
  t.from, t.to = BOB, ALICE
  t.body = t.body or ("case " .. id)
  t.headers = t.headers or {}
  table.insert(t.headers, "X-Case: hostile-" .. id)
  local text = sip.request(t)
  return edit and edit(text) or text
end

-- Replaces the first header line `name: ...` with `line` (plain find, no patterns).
local function set(name, line)
  return function(text)
    local s, e = text:find("\r\n" .. name:gsub("%-", "%%-") .. ": [^\r]*")
    assert(s, "no " .. name .. " header to replace")
    return text:sub(1, s + 1) .. line .. text:sub(e + 1)
  end
end

-- Adds a header line after the first one.
local function add(line)
  return function(text)
    local s = text:find("\r\n", 1, true)
    return text:sub(1, s + 1) .. line .. "\r\n" .. text:sub(s + 2)
  end
end

local function with_second_via(host)
  -- the request's own Via becomes the second one, with the hostile host
  return function(text)
    text = set("Via", "Via: SIP/2.0/TLS " .. host .. ";branch=z9hG4bKsecond")(text)
    local s = text:find("\r\n", 1, true)
    return text:sub(1, s + 1) .. "Via: SIP/2.0/TLS sip.aol.test:5061;branch=z9hG4bKtop" ..
      math.random(1, 1e9) .. "\r\n" .. text:sub(s + 2)
  end
end

local CASES = {
  -- issue 11 item 1: client errors that used to get 500
  { "NUL in a header", add("Subject: a\0b") },
  { "Content-Type not type/subtype", nil, { content_type = "textplain" } },
  { "8-bit Content-Type", nil, { content_type = "text/pl\228in" } },
  { "Call-ID @host", set("Call-ID", "Call-ID: @sip.aol.test") },
  { "Via port -1", set("Via", "Via: SIP/2.0/TLS sip.aol.test:-1;branch=z9hG4bKp1") },
  { "From ;;;;;=token", set("From", "From: ;;;;;=token") },
  { "To without <", set("To", "To: \"Alice\" sip:alice@contoso.test") },
  { "Contact scheme %s", add("Contact: <%s%s%s%s:bob@sip.aol.test>") },
  -- item 4: malformed values that used to be forwarded inward
  { "Call-ID with ESC", set("Call-ID", "Call-ID: x\27[2J\8@sip.aol.test") },
  { "Call-ID with 8-bit", set("Call-ID", "Call-ID: x\200\255@sip.aol.test") },
  { "Expires -1", add("Expires: -1") },
  { "Expires -1073741823", add("Expires: -1073741823") },
  { "78-digit Expires", add("Expires: " .. string.rep("9", 78)) },
  { "second Via host -1", with_second_via("-1") },
  { "second Via host %s%x%n", with_second_via("%s%x%n") },
  { "Contact <sip:@host>", add("Contact: <sip:@sip.aol.test>") },
  { "NUL in the SDP body", nil, { content_type = "application/sdp",
      body = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\0\r\ns=-\r\n" } },
  -- item 3: injection into logs and Warning text
  { "ESC and backspace in Subject", add("Subject: \27[31mowned\8\8\8\8\8") },
  -- more of the same kinds
  { "non-token byte in a header name", add("X-B\192d: 1") },
  { "Request-URI host not a host", nil, { ruri = "sip:alice@conto$o.test" } },
  { "CSeq 2^31", set("CSeq", "CSeq: 2147483648 MESSAGE") },
  { "Max-Forwards 300", set("Max-Forwards", "Max-Forwards: 300") },
  { "From with 8-bit outside quotes", set("From", "From: B\233b <sip:bob@aol.test>;tag=1") },
  { "Contact expires 2^40", add("Contact: <sip:bob@sip.aol.test>;expires=1099511627776") },
  { "Via received not an address", set("Via", "Via: SIP/2.0/TLS sip.aol.test;received=%n;branch=z9hG4bKr") },
  -- control bytes in the start line still frame; echoed fields a parser would refuse are
  -- replaced in the answer; an escaped NUL would lose the user part inside
  { "NUL in the Request-URI", nil, { ruri = "sip:al\0ice@contoso.test" } },
  { "ESC in the Request-URI host", nil, { ruri = "sip:alice@conto\27[2Jso.test" } },
  { "NUL before the method", function(t) return "\0" .. t end },
  { "Request-URI scheme with a control byte", nil, { ruri = "s\1p:alice@contoso.test" } },
  { "Request-URI user %00", nil, { ruri = "sip:%00@contoso.test" } },
  { "From user %00", set("From", "From: <sip:%00@aol.test>;tag=1") },
  { "To host a control byte", set("To", "To: <sip:alice@\3>") },
  { "To host '?'", set("To", "To: <sip:alice@?>") },
  { "From display name of quotes", set("From", "From: " .. string.rep('"', 7) .. " <sip:bob@aol.test>;tag=1") },
  { "second Via host '['", with_second_via("[") },
  { "second Via host ';'", with_second_via(";") },
}

-- Bytes a well-formed SIP text may hold in its header: printable ASCII, CR, LF, HT.
local function raw_bytes(text)
  local head = text:match("^(.-\r\n\r\n)") or text
  return head:find("[^\t\r\n\32-\126]")
end

return scenario {
  title  = "Hostile requests from a provider: 4xx with a reason, connection kept, nothing malformed inside",
  covers = { "ROB-002", "ROB-003", "IM-004" },
  tags   = { "robustness", "hostile" },
  timeout = 90,
  lab    = { sut_limits = { message_timeout_ms = 3000, peer_partial_max = 20000 } },
  waive  = {
    { "well-formed", flow = "sip.aol.test -> ap.contoso.test", why = "the hostile requests are malformed on purpose" },
    { "transactions-end", flow = "sip.aol.test -> ap.contoso.test", why = "an incomplete message and an unframeable one get no answer by design" },
  },
  run = function(lab)
    local alice = lab.enterprise:user(ALICE)
    alice:allow(BOB)
    local aol = lab.provider("aol")

    -- item 2, the repro: a valid MESSAGE and then a request whose method is byte 0xC0, on
    -- one connection: the valid one gets its answer, the bad one 400, the connection stays.
    local valid = sip.request{ from = BOB, to = ALICE, body = "valid one",
                               headers = { "X-Case: valid-1" } }
    local bad = hostile("C0", function(t) return "\192" .. t:sub((t:find(" ", 1, true))) end)
    local r = aol:send_raw(valid .. bad, { finals = 2, timeout = 5 })
    local got = {}
    for _, x in ipairs(r.responses) do if x.status >= 200 then got[#got + 1] = x.status end end
    table.sort(got)
    expect_eq(table.concat(got, ","), "200,400", "answers to a valid MESSAGE and a 0xC0 request on one connection")
    expect(not r.closed, "the connection survives the 0xC0 request")
    alice:expect_message{ from = BOB, contains = "valid one" }

    -- item 2, a stream that cannot be resynchronised (bytes with no Content-Length after a
    -- valid MESSAGE): the connection closes, and the MESSAGE's answer, which comes later from
    -- inside, still reaches the provider over a new connection (RFC 3261 18.2.2).
    local cid = "resync-" .. math.random(1, 1e9) .. "@sip.aol.test"
    valid = sip.request{ from = BOB, to = ALICE, body = "valid three", call_id = cid }
    r = aol:send_raw(valid .. "\1\2\3 no framing here\r\n\r\n", { timeout = 5 })
    expect(r.closed, "the connection closes when the stream cannot be resynchronised")
    alice:expect_message{ from = BOB, contains = "valid three" }
    lab:sleep(0.5)
    local answered = lab.capture:sip{ leg = "external", status = 200, call_id = cid }
    expect(#answered >= 1, "the 200 to the MESSAGE before the unframeable bytes reached the provider")

    -- items 1, 3, 4: each hostile request alone, then all of them and a valid one on one
    -- connection: 4xx with a Warning, never 5xx, the connection kept.
    local all = {}
    for i, c in ipairs(CASES) do
      local text = hostile(i, c[2], c[3])
      all[#all + 1] = text
      local x = aol:send_raw(text, { timeout = 3 })
      local st = x.final and x.final.status
      log(string.format("#%d %s -> %s%s", i, c[1], tostring(st), x.closed and " (closed)" or ""))
      expect(st and st >= 400 and st < 500, c[1] .. ": a 4xx answer, got " .. tostring(st))
      expect(x.final.text:find("\r\nWarning: 399 ", 1, true), c[1] .. ": a Warning names the reason")
      expect(not raw_bytes(x.final.text), c[1] .. ": the answer carries no raw control or 8-bit byte")
      expect(not x.final.unparsable, c[1] .. ": the answer parses (libosip2)")
      expect(not x.closed, c[1] .. ": the connection is kept")
    end
    all[#all + 1] = sip.request{ from = BOB, to = ALICE, body = "valid two", headers = { "X-Case: valid-2" } }
    r = aol:send_raw(table.concat(all), { finals = #all, timeout = 10 })
    local n4, n5, n2 = 0, 0, 0
    for _, x in ipairs(r.responses) do
      if x.status >= 500 then n5 = n5 + 1 elseif x.status >= 400 then n4 = n4 + 1
      elseif x.status >= 200 then n2 = n2 + 1 end
    end
    expect_eq(n5, 0, "5xx answers among " .. #all .. " requests on one connection")
    expect_eq(n4, #CASES, "4xx answers on one connection")
    expect_eq(n2, 1, "the valid MESSAGE after them answered 200")
    expect(not r.closed, "one connection carried every hostile request and stayed up")
    alice:expect_message{ from = BOB, contains = "valid two" }

    -- item 5: a body over the limit within the discard cap gets 413 and the connection lives;
    -- a header block over the limit gets 513.
    local big = sip.request{ from = BOB, to = ALICE, body = string.rep("x", 40000) }
    r = aol:send_raw(big .. sip.request{ from = BOB, to = ALICE, body = "after the big one" },
                     { finals = 2, timeout = 5 })
    expect_eq(r.responses[1] and r.responses[1].status, 413, "a 40 KB body")
    expect_eq(r.responses[2] and r.responses[2].status, 200, "the MESSAGE after the 40 KB body on the same connection")
    alice:expect_message{ from = BOB, contains = "after the big one" }
    local longvia = sip.request{ from = BOB, to = ALICE, body = "long",
      headers = { "Subject: " .. string.rep("s", 3000), "X-A: " .. string.rep("a", 3000),
                  "X-B: " .. string.rep("b", 3000), "X-C: " .. string.rep("c", 3000),
                  "X-D: " .. string.rep("d", 3000), "X-E: " .. string.rep("e", 3000) } }
    r = aol:send_raw(longvia, { timeout = 5 })
    expect_eq(r.final and r.final.status, 513, "a header block of 18 KB")

    -- item 6: one address holding more incomplete bytes than peer_partial_max (20000 here)
    -- over its connections: the connection that passes it closes.
    local part = "MESSAGE sip:alice@contoso.test SIP/2.0\r\nSubject: " .. string.rep("p", 12000)
    local r1, r2
    lab:parallel(function() r1 = aol:send_raw(part, { timeout = 8 }) end,
                 function() lab:sleep(0.3); r2 = aol:send_raw(part, { timeout = 8 }) end)
    local st = lab.sut:ctl("status")
    expect(tonumber(st:match('"partial_cap_closes":(%d+)')) >= 1,
      "apctl status counts a connection closed by the partial-byte cap: " .. st)
    expect(r1.closed and r2.closed, "both incomplete connections closed (cap, then deadline)")

    -- item 6: a message that never completes is dropped at its deadline (3 s here).
    r = aol:send_raw("MESSAGE sip:alice@contoso.test SIP/2.0\r\nVia: SIP/2.0/TLS sip.aol.test", { timeout = 20 })
    expect(r.closed, "an incomplete message's connection closed at its deadline")
    local status = lab.sut:ctl("status")
    local timeouts = tonumber(status:match('"incomplete_timeouts":(%d+)'))
    expect(timeouts and timeouts >= 1, "apctl status counts the incomplete message: " .. status)
    expect(tonumber(status:match('"refused_malformed":(%d+)')) >= #CASES - 6,
      "apctl status counts the refusals: " .. status)

    -- nothing malformed, and no hostile request, crossed the internal leg (decrypted)
    local inside = lab.capture:sip{ leg = "internal" }
    log(#inside .. " messages on the internal leg")
    local saw_valid = false
    for _, m in ipairs(inside) do
      local low = m.text:lower() -- libosip2 writes header names in its own case
      expect(not low:find("x-case: hostile", 1, true), "a hostile request crossed inward:\n" .. m.text)
      expect(not raw_bytes(m.text), "a raw control or 8-bit byte crossed inward:\n" .. m.text)
      if low:find("x-case: valid-2", 1, true) then saw_valid = true end
    end
    expect(saw_valid, "the valid MESSAGE seen on the decrypted internal leg (the check is not vacuous)")
    for _, f in ipairs(lab.capture:flows{ leg = "internal" }) do
      expect(f.decrypted, "internal leg decrypted")
    end

    -- outward too: a request from inside whose Request-URI user holds an escaped NUL gets 400
    -- and does not leave cut short at the NUL (a parser forwards "sip:%00@h" as "sip:@h")
    local nul = sip.request{ from = ALICE, to = BOB, ruri = "sip:b%00ob@aol.test",
                             body = "nul user", headers = { "X-Case: outward-nul" } }
    r = lab.enterprise:send_raw(nul, { timeout = 3 })
    expect_eq(r.final and r.final.status, 400, "a request from inside with %00 in its Request-URI user")
    local outside = lab.capture:sip{ leg = "external" }
    for _, m in ipairs(outside) do
      expect(not m.text:lower():find("x-case: outward-nul", 1, true),
        "the request with %00 left outward:\n" .. m.text)
    end
    expect(#outside > 0, "the external leg decoded (the check is not vacuous)")

    -- the proxy's log holds no raw control byte (ESC, BS, NUL) from the requests
    local f = assert(io.open(lab.dir .. "/sut.log", "rb"))
    local logtext = f:read("a")
    f:close()
    local bad_at = logtext:find("[^\t\n\32-\126]")
    expect(not bad_at, "sut.log holds a raw byte at " .. tostring(bad_at) .. ": " ..
      (bad_at and logtext:sub(math.max(1, bad_at - 60), bad_at + 20):gsub("[^\32-\126]", "?") or ""))
    expect(logtext:find("\\x1b", 1, true), "sut.log shows the ESC escaped")
    expect(lab.sut:running(), "accessproxy alive")
  end,
}
