-- PRES-003: "in a meeting" shows online everywhere; "away" shows as each provider's away.
-- The mapping itself is the services' (fakes/im/profile.c): the enterprise's PIDF says what its
-- user does, each provider shows it in its own words. What the proxy must do is relay the
-- documents: each NOTIFY crosses one for one, in order, with the same PIDF, Content-Type and
-- Subscription-State on both legs, no trust header and no internal name going out, exactly one
-- (its own) coming in. A change of wording at either end shows up unchanged at the other end,
-- which a proxy rewriting presence could not pass.
local wire = require("wire")

-- Waits until w sees who in state through a NOTIFY newer than `before` (its count of NOTIFYs).
local function seen_after(w, who, state, before)
  return w:expect_presence(who, state, { notifies = before + 1 })
end

local function counts(ws, who)
  local n = {}
  for _, w in ipairs(ws) do n[w] = select(2, w:presence_of(who)).notifies end
  return n
end

return scenario {
  title  = "presence states map per provider; the PIDF crosses the proxy unchanged both ways",
  covers = { "PRES-003" },
  tags   = { "presence", "workers" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    local carol = lab.provider("yahoo"):user("carol@yahoo.test")
    local dan   = lab.provider("msn"):user("dan@msn.test")
    local watchers = { bob, carol, dan }
    for _, w in ipairs(watchers) do alice:allow(w); w:add_contact(alice) end
    for _, w in ipairs(watchers) do w:expect_presence(alice, "online", { subscription = "active" }) end

    local n = counts(watchers, alice)
    alice:set_presence("in-a-meeting")
    for _, w in ipairs(watchers) do
      local i = seen_after(w, alice, "online", n[w])
      expect_eq(i.pidf_note, "In a meeting", w.aor .. ": the <note> of alice's PIDF as it arrived")
    end
    n = counts(watchers, alice)
    alice:set_presence("away")
    seen_after(bob, alice, "Away", n[bob])
    seen_after(carol, alice, "Stepped Out", n[carol])
    seen_after(dan, alice, "Away", n[dan])

    -- the enterprise changes its wording: the providers get it as it was sent
    lab.enterprise:set_note("in-a-meeting", "Presenting to the board")
    n = counts(watchers, alice)
    alice:set_presence("in-a-meeting")
    for _, w in ipairs(watchers) do
      local i = seen_after(w, alice, "online", n[w])
      expect_eq(i.pidf_note, "Presenting to the board", w.aor .. ": the changed <note> as it arrived")
    end

    -- and the other way: Yahoo! says away its own way, the enterprise watcher gets those words
    carol:allow(alice)
    alice:add_contact(carol)
    lab.provider("yahoo"):set_note("away", "Gone Fishing")
    alice:expect_presence(carol, "online", { subscription = "active" })
    local before = select(2, alice:presence_of(carol)).notifies
    carol:set_presence("away")
    local i = seen_after(alice, carol, "away", before)
    expect_eq(i.pidf_note, "Gone Fishing", "the <note> of carol's PIDF at the enterprise")
    lab.capture:settle() -- the last NOTIFYs finish their transactions before the capture is judged

    -- on the wire: every NOTIFY of alice relayed unchanged, in order, to each watcher
    for _, w in ipairs(watchers) do
      local _, out = wire.relayed_unchanged(lab, { method = "NOTIFY", from = alice.aor, to = w.aor,
        src = "internal", dst = "external", min = 4 })
      for n, m in ipairs(out) do
        local what = string.format("NOTIFY #%d to %s", n, w.aor)
        wire.expect_no_trust(m, what)
        wire.expect_no_inside_names(lab, m, what)
      end
      expect(out[#out].text:find("<note>Presenting to the board</note>", 1, true),
        "the last NOTIFY to " .. w.aor .. " carries the changed wording on the external leg")
    end
    local _, inb = wire.relayed_unchanged(lab, { method = "NOTIFY", from = carol.aor, to = alice.aor,
      src = "external", dst = "internal", min = 1 })
    for n, m in ipairs(inb) do
      wire.expect_trust(m, false, "sip.yahoo.test", string.format("NOTIFY #%d from carol", n))
    end
    expect(inb[#inb].text:find("<note>Gone Fishing</note>", 1, true),
      "carol's last NOTIFY carries Yahoo!'s changed wording on the internal leg")
    wire.decrypted(lab, "internal")
    wire.decrypted(lab, "external")
  end,
}
