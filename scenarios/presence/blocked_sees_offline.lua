-- PRES-006: a blocked public user sees the enterprise user offline. The enterprise decides that
-- (a polite block: the subscription stays, its documents say closed); the proxy must carry it.
-- Offline is also what a lost NOTIFY or a dead subscription looks like, so this is judged on the
-- wire: after the block, and after each later change of alice's, a NOTIFY with a closed PIDF
-- crosses both legs unchanged and the watcher counts it while its subscription stays active;
-- after the unblock the same dialog brings alice back online.
local wire = require("wire")

local function closed(m)
  return wire.body(m.text):find("<basic>closed</basic>", 1, true) ~= nil
end

return scenario {
  title  = "a blocked public user sees the enterprise user offline: closed NOTIFYs relayed on the same dialog",
  covers = { "PRES-006" },
  tags   = { "presence", "workers" },
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    local dan   = lab.provider("msn"):user("dan@msn.test")
    for _, w in ipairs{ bob, dan } do
      alice:allow(w)
      w:add_contact(alice)
      w:expect_presence(alice, "online", { subscription = "active" })
    end
    local nb = select(2, bob:presence_of(alice)).notifies
    local nd = select(2, dan:presence_of(alice)).notifies

    alice:block(bob)
    local i = bob:expect_presence(alice, "offline", { subscription = "active", notifies = nb + 1 })
    expect_eq(i.pidf_note, "Offline", "the <note> bob's NOTIFY brought")
    alice:set_presence("busy")
    i = bob:expect_presence(alice, "offline", { subscription = "active", notifies = nb + 2 })
    dan:expect_presence(alice, "busy", { notifies = nd + 1 })
    expect_eq(select(1, bob:presence_of(alice)), "offline", "what blocked bob sees while alice is busy")

    alice:unblock(bob)
    bob:expect_presence(alice, "busy", { subscription = "active", notifies = nb + 3 })
    lab.capture:settle() -- the last NOTIFYs finish their transactions before the capture is judged

    local _, out = wire.relayed_unchanged(lab, { method = "NOTIFY", from = alice.aor, to = bob.aor,
      src = "internal", dst = "external", min = nb + 3 })
    -- the first nb NOTIFYs were before the block; the next two are the blocked ones
    expect(not closed(out[nb]), "bob's NOTIFY before the block was open")
    for k = nb + 1, nb + 2 do
      expect(closed(out[k]), string.format("bob's NOTIFY #%d after the block carries a closed PIDF on the external leg", k))
      wire.expect_no_trust(out[k], "NOTIFY #" .. k .. " to bob")
      wire.expect_no_inside_names(lab, out[k], "NOTIFY #" .. k .. " to bob")
    end
    expect(not closed(out[nb + 3]), "bob's NOTIFY after the unblock is open")
    -- the same dialog all along: one Call-ID for every NOTIFY to bob on the external leg
    for k = 2, #out do
      expect_eq(out[k].call_id, out[1].call_id, "Call-ID of bob's NOTIFY #" .. k)
    end
    -- dan, not blocked, got alice's busy open
    local _, dout = wire.relayed_unchanged(lab, { method = "NOTIFY", from = alice.aor, to = dan.aor,
      src = "internal", dst = "external", min = nd + 1 })
    expect(not closed(dout[#dout]), "dan's last NOTIFY is open")
    wire.decrypted(lab, "internal")
    wire.decrypted(lab, "external")
  end,
}
