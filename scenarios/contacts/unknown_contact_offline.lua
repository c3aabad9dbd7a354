-- CONT-004: a contact that does not exist: no error to the client, shown offline, on every
-- provider (AOL-like answers 202 and a pending NOTIFY, Yahoo!-like 200 and a closed NOTIFY,
-- MSN-like 404). Offline is also what every failure looks like, so the outcome alone proves
-- nothing: the SUBSCRIBE must cross both legs (enterprise -> proxy -> provider), the provider's
-- answer and its NOTIFY must come back across both legs, and what the watcher shows must be what
-- the provider said (the subscription state of its NOTIFY, or the 404).
local sip = require("sip")

local want = {
  aol   = { status = 202, notify = "pending", shows = "pending" },
  yahoo = { status = 200, notify = "active", shows = "active", closed = true },
  msn   = { status = 404, shows = "terminated" },
}

-- The messages of one leg for the dialog with call_id, of the method, as requests or responses.
local function on_leg(lab, leg, call_id, method, responses)
  local out = {}
  for _, m in ipairs(lab.capture:sip{ leg = leg, call_id = call_id }) do
    if m.method == method and (m.request and not responses or not m.request and responses) then
      out[#out + 1] = m
    end
  end
  return out
end

return scenario {
  title  = "adding a public contact that does not exist: SUBSCRIBE and NOTIFY cross both legs, shown offline",
  covers = { "CONT-004" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    for _, p in ipairs{ "aol", "yahoo", "msn" } do
      local ghost = "ghost@" .. p .. ".test"
      local w = want[p]
      alice:add_contact(ghost)
      alice:expect_presence(ghost, "offline", { subscription = w.shows, notifies = w.notify and 1 or 0 })
      local state, info = alice:presence_of(ghost)
      expect_eq(state, "offline", "presence of " .. ghost)
      log(string.format("%s: subscription %s, reason '%s', %d NOTIFYs", p, info.subscription,
        info.reason, info.notifies))

      -- the SUBSCRIBE crossed both legs: the enterprise's on the internal, the proxy's on the external
      local subs = lab.capture:expect{ leg = "external", method = "SUBSCRIBE", to = ghost, count = 1 }
      local call_id = subs[1].call_id
      expect(subs[1].tls, "the SUBSCRIBE to " .. ghost .. " inside TLS")
      lab.capture:expect{ leg = "internal", method = "SUBSCRIBE", to = ghost, count = 1 }
      -- the provider's answer came back across both legs, unchanged in status
      for _, leg in ipairs{ "external", "internal" } do
        lab.capture:expect{ leg = leg, method = "SUBSCRIBE", status = w.status, to = ghost, min = 1, within = 5 }
        local rs = on_leg(lab, leg, nil, "SUBSCRIBE", true)
        local final
        for _, r in ipairs(rs) do
          if r.status >= 200 and r.to == ghost then final = r end
        end
        expect(final, string.format("a final answer to the SUBSCRIBE for %s on the %s leg", ghost, leg))
        expect_eq(final.status, w.status, p .. "'s answer to the SUBSCRIBE on the " .. leg .. " leg")
      end
      if w.notify then
        -- the NOTIFY came from the provider through the proxy to the watcher
        for _, leg in ipairs{ "external", "internal" } do
          local n = lab.capture:expect{ leg = leg, method = "NOTIFY", from = ghost, within = 5 }
          local st = sip.header(n[1].text, "Subscription-State") or ""
          expect(st:match("^" .. w.notify), string.format("%s NOTIFY on the %s leg says %s, got '%s'",
            p, leg, w.notify, st))
          if w.closed then
            expect(n[1].text:find("<basic>closed</basic>", 1, true),
              string.format("%s NOTIFY on the %s leg carries a closed PIDF", p, leg))
          end
        end
        -- the watcher accepted it, and its 200 crossed back out (a moment after the NOTIFY counted)
        for _, leg in ipairs{ "internal", "external" } do
          lab.capture:expect{ leg = leg, method = "NOTIFY", status = 200, from = ghost, count = 1, within = 5 }
        end
        expect(info.notifies >= 1, ghost .. ": the watcher counted the NOTIFY")
      else
        lab.capture:expect{ leg = "external", method = "NOTIFY", from = ghost, count = 0 }
        expect_eq(info.reason, "404", "why the watcher shows " .. ghost .. " terminated")
      end
    end
    -- "nothing crossed" and "counted" above only mean something on decrypted legs
    for _, leg in ipairs{ "internal", "external" } do
      for _, f in ipairs(lab.capture:flows{ leg = leg }) do
        expect(f.decrypted, string.format("%s flow %s -> %s decrypted", leg, f.client, f.server))
      end
    end
  end,
}
