-- PRES-002: a public user's presence change reaches every enterprise watcher. Four enterprise
-- users watch bob@aol.test (one subscription each, all through the proxy); each change of bob's
-- must reach every one of them, and on the wire each watcher's NOTIFYs must cross from the
-- external to the internal leg one for one, unchanged, each with exactly one trust header (the
-- proxy's). A watcher that removes bob stops getting them while the others go on. The same for
-- an MSN user with two watchers (verified: MSN claims it).
local wire = require("wire")

local function count(w, who)
  return select(2, w:presence_of(who)).notifies
end

return scenario {
  title  = "a public user's presence changes reach every enterprise watcher, on the wire",
  covers = { "PRES-002" },
  tags   = { "presence" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local ent = lab.enterprise
    local watchers = { ent:user("alice@contoso.test"), ent:user("bob@contoso.test"),
                       ent:user("carol@contoso.test"), ent:user("dave@contoso.test") }
    local pub = lab.provider("aol"):user("bob@aol.test")
    local dan = lab.provider("msn"):user("dan@msn.test")
    for _, w in ipairs(watchers) do
      w:allow(pub)
      w:add_contact(pub)
      pub:expect_authorization_request(w):grant()
      w:expect_presence(pub, "online", { subscription = "active" })
    end
    for k = 1, 2 do
      watchers[k]:add_contact(dan)
      dan:expect_authorization_request(watchers[k]):grant()
      watchers[k]:expect_presence(dan, "online", { subscription = "active" })
    end

    for _, st in ipairs{ "busy", "away", "online" } do
      local n = {}
      for _, w in ipairs(watchers) do n[w] = count(w, pub) end
      pub:set_presence(st)
      for _, w in ipairs(watchers) do w:expect_presence(pub, st, { notifies = n[w] + 1 }) end
    end
    for _, st in ipairs{ "away", "busy" } do
      local n = {}
      for k = 1, 2 do n[k] = count(watchers[k], dan) end
      dan:set_presence(st)
      for k = 1, 2 do watchers[k]:expect_presence(dan, st, { notifies = n[k] + 1 }) end
    end

    -- dave stops watching; the others still get bob's changes
    local gone = watchers[4]
    gone:remove_contact(pub)
    local n = {}
    for k = 1, 3 do n[k] = count(watchers[k], pub) end
    pub:set_presence("busy")
    for k = 1, 3 do watchers[k]:expect_presence(pub, "busy", { notifies = n[k] + 1 }) end
    lab.capture:settle() -- the last NOTIFYs finish their transactions before the capture is judged

    for k, w in ipairs(watchers) do
      local _, inb = wire.relayed_unchanged(lab, { method = "NOTIFY", from = pub.aor, to = w.aor,
        src = "external", dst = "internal", min = k < 4 and 5 or 4 })
      for i, m in ipairs(inb) do
        wire.expect_trust(m, false, "sip.aol.test", string.format("NOTIFY #%d from bob@aol.test to %s", i, w.aor))
      end
      if k == 4 then
        local last = inb[#inb]
        expect(wire.body(last.text) == "" or (require("sip").header(last.text, "Subscription-State") or ""):match("^terminated"),
          "the last NOTIFY to dave ends the subscription")
      end
    end
    for k = 1, 2 do
      local _, inb = wire.relayed_unchanged(lab, { method = "NOTIFY", from = dan.aor, to = watchers[k].aor,
        src = "external", dst = "internal", min = 3 })
      for i, m in ipairs(inb) do
        wire.expect_trust(m, true, "sip.msn.test", string.format("NOTIFY #%d from dan to %s", i, watchers[k].aor))
      end
    end
    wire.decrypted(lab, "internal")
    wire.decrypted(lab, "external")
  end,
}
