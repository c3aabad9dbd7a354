-- POL-007: only IM and presence pass. An INVITE offering audio, video or a file transfer, any
-- other method and any other event package are refused with a fitting response, both ways,
-- and nothing of them crosses the proxy.
local function sdp(m_lines)
  return "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" ..
         table.concat(m_lines, "\r\n") .. "\r\n"
end

local REFUSED = {
  { "audio call",     { method = "INVITE", content_type = "application/sdp", body = sdp{ "m=audio 49170 RTP/AVP 0" } }, 488 },
  { "video call",     { method = "INVITE", content_type = "application/sdp", body = sdp{ "m=video 51372 RTP/AVP 31" } }, 488 },
  { "IM plus audio",  { method = "INVITE", content_type = "application/sdp", body = sdp{ "m=message 5060 sip null", "m=audio 49170 RTP/AVP 0" } }, 488 },
  { "file transfer",  { method = "INVITE", content_type = "application/sdp", body = sdp{ "m=application 5060 TCP/MSRP *", "a=file-selector:name:\"report.pdf\"" } }, 488 },
  { "INFO",           { method = "INFO" }, 405 },
  { "PUBLISH",        { method = "PUBLISH", headers = { "Event: presence" } }, 405 },
  { "REGISTER",       { method = "REGISTER" }, 405 },
  { "message-summary subscription", { method = "SUBSCRIBE", headers = { "Event: message-summary", "Expires: 60" } }, 489 },
  { "conference subscription",      { method = "SUBSCRIBE", headers = { "Event: conference", "Expires: 60" } }, 489 },
}

return scenario {
  title  = "Audio, video and file-transfer offers, other methods and event packages are refused both ways",
  covers = { "POL-007" },
  tags   = { "policy" },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    alice:allow(bob)
    for _, c in ipairs(REFUSED) do
      local what, req, want = c[1], c[2], c[3]
      for _, dir in ipairs({ { alice, bob, "outbound" }, { bob, alice, "inbound" } }) do
        local from, to, way = dir[1], dir[2], dir[3]
        local t = { to = to }
        for k, v in pairs(req) do t[k] = v end
        local r = from:send_request(t)
        expect(r.status, way .. " " .. what .. ": a response (" .. tostring(r.error) .. ")")
        expect_eq(r.status, want, way .. " " .. what)
        if want == 405 then
          expect(r.headers.allow and r.headers.allow:find("MESSAGE", 1, true),
            way .. " " .. what .. ": 405 with an Allow listing MESSAGE, got " .. tostring(r.headers.allow))
        end
      end
    end
    -- none of them crossed: no INVITE, INFO, PUBLISH, REGISTER or SUBSCRIBE on the far legs
    for _, m in ipairs({ "INVITE", "INFO", "PUBLISH", "REGISTER", "SUBSCRIBE" }) do
      lab.capture:expect{ leg = "external", method = m, from = "alice@contoso.test", count = 0 }
      lab.capture:expect{ leg = "internal", method = m, from = "bob@aol.test", count = 0 }
    end
    -- what is allowed still passes: OPTIONS, a text IM session, a MESSAGE
    local r = alice:send_request{ method = "OPTIONS", to = bob }
    expect_eq(r.status, 200, "OPTIONS to bob")
    local s = alice:start_session(bob)
    bob:expect_session(alice):accept()
    s:expect_established()
    s:bye()
    expect_eq(alice:send_message(bob, "plain IM still fine"), 200, "MESSAGE")
    bob:expect_message{ from = alice }
    lab:sleep(0.3)
  end,
}
