-- IM-005: a MESSAGE to an offline public user gets that provider's documented answer
-- (fakes/im/profile.c: AOL 480, Yahoo! 202 stored and delivered later, MSN 408).
-- The answer is the provider's; the proxy must forward the MESSAGE and relay the answer as it
-- is. So it is judged on the wire: the MESSAGE crosses the external leg once, the provider's
-- status line comes back across both legs unchanged, without a Warning of the proxy (MSN's 408
-- must not be mistaken for the proxy's own Timer F 408, which carries one). A changed answer at
-- a provider reaches the enterprise unchanged: a proxy mapping answers could not pass that.
local sip = require("sip")
local wire = require("wire")

local function status_line(text)
  return text:match("^([^\r\n]*)")
end

-- The final answers to the MESSAGE from `from` to `to` on one leg (any status 200..699).
local function finals_on(lab, leg, from, to)
  local out = {}
  for _, m in ipairs(lab.capture:sip{ leg = leg, from = from, to = to }) do
    if not m.request and m.status >= 200 and sip.header(m.text, "CSeq"):match("MESSAGE$") then
      out[#out + 1] = m
    end
  end
  return out
end

return scenario {
  title  = "offline answers per provider, relayed unchanged; a changed answer shows unchanged at the enterprise",
  covers = { "IM-005" },
  tags   = { "im", "workers" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local want = {
      { p = "aol", status = 480, reason = "Temporarily Unavailable" },
      { p = "yahoo", status = 202, reason = "Accepted (stored offline)" },
      { p = "msn", status = 408, reason = "Request Timeout (user offline)" },
      -- the same providers with their answer changed: it must come through as changed
      { p = "aol", status = 404, reason = "Not Found (screen name signed off)", change = true, user = "off2" },
      { p = "msn", status = 410, reason = "Gone (lab change)", change = true, user = "off2" },
    }
    for _, w in ipairs(want) do
      local site = lab.provider(w.p)
      if w.change then site:set_offline_answer(w.status, w.reason) end
      local u = site:user((w.user or "off") .. "@" .. w.p .. ".test")
      u:set_presence("offline")
      local st, why = alice:send_message(u, "are you there? " .. w.p)
      expect_eq(st, w.status, w.p .. " answer to a MESSAGE for an offline user (" .. tostring(why) .. ")")
      expect_eq(why, w.reason, w.p .. " reason phrase at the enterprise")
      w.aor = u.aor
    end
    local carol = lab.provider("yahoo"):user("off@yahoo.test")
    carol:set_presence("online")
    carol:expect_message{ from = alice, contains = "are you there? yahoo" }

    for _, w in ipairs(want) do
      local what = string.format("%s (%d)", w.aor, w.status)
      lab.capture:expect{ leg = "external", method = "MESSAGE", from = alice.aor, to = w.aor, count = 1 }
      for _, leg in ipairs{ "external", "internal" } do
        lab.capture:expect{ leg = leg, method = "MESSAGE", status = w.status, from = alice.aor,
                            to = w.aor, count = 1, within = 5 }
      end
      local exts = finals_on(lab, "external", alice.aor, w.aor)
      local ints = finals_on(lab, "internal", alice.aor, w.aor)
      expect_eq(#exts, 1, "final answers on the external leg for " .. what)
      expect_eq(#ints, 1, "final answers on the internal leg for " .. what)
      local ext, int = exts[1], ints[1]
      expect_eq(status_line(ext.text), string.format("SIP/2.0 %d %s", w.status, w.reason),
        "the provider's status line on the external leg for " .. what)
      expect_eq(status_line(int.text), status_line(ext.text), "the status line relayed inward for " .. what)
      expect_eq(#sip.headers(int.text, "Warning"), 0, "Warnings (the proxy's own answer has one) for " .. what)
    end
    wire.decrypted(lab, "internal")
    wire.decrypted(lab, "external")
  end,
}
