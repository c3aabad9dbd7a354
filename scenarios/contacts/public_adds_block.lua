-- CONT-003: a public user adds an enterprise user; the subscription arrives marked per the
-- provider's filter mode, and the enterprise user can allow or block. Here every mode at once
-- (AOL allow-all: verified; MSN verified-only with its claim: verified; Yahoo! contacts-only:
-- unverified), the marks judged on the internal leg, and both answers of the enterprise user:
-- a grant (presence flows), and a block (the watcher sees offline on a subscription that stays,
-- through closed NOTIFYs relayed by the proxy, while an allowed watcher sees every change).
local wire = require("wire")

local function closed(m)
  return wire.body(m.text):find("<basic>closed</basic>", 1, true) ~= nil
end

return scenario {
  title  = "public users add an enterprise user: marked per filter mode, granted or blocked",
  covers = { "CONT-003" },
  tags   = { "contacts" },
  lab    = { providers = { aol = { allow = true, filter = "allow-all" },
                           yahoo = { allow = true, filter = "contacts-only" },
                           msn = { allow = true } } },
  run = function(lab)
    local alice = lab.enterprise:user("alice@contoso.test")
    local bob   = lab.provider("aol"):user("bob@aol.test")
    local carol = lab.provider("yahoo"):user("carol@yahoo.test")
    local dan   = lab.provider("msn"):user("dan@msn.test")

    -- verified (MSN's claim kept): alice is asked and grants
    dan:add_contact(alice)
    alice:expect_authorization_request(dan):grant()
    dan:expect_presence(alice, "online", { subscription = "active" })
    expect(alice:is_allowed(dan), "dan on alice's allow list after the grant")

    -- verified (allow-all): alice is asked and blocks
    bob:add_contact(alice)
    alice:expect_authorization_request(bob):deny()
    expect(alice:is_blocked(bob), "bob on alice's block list after the refusal")
    -- the enterprise's pending NOTIFY, then (a polite block) an active one with a closed PIDF
    bob:expect_presence(alice, "offline", { subscription = "active", notifies = 2 })

    -- unverified (contacts-only), on no list: refused outright, alice is not asked
    carol:add_contact(alice)
    carol:expect_presence(alice, "offline", { subscription = "terminated" })
    expect(not alice:is_allowed(carol) and not alice:is_blocked(carol), "carol on none of alice's lists")

    -- alice changes state: dan sees it, blocked bob does not
    local nb = select(2, bob:presence_of(alice)).notifies
    alice:set_presence("busy")
    dan:expect_presence(alice, "busy")
    bob:expect_presence(alice, "offline", { subscription = "active", notifies = nb + 1 })
    expect_eq(select(1, bob:presence_of(alice)), "offline", "what blocked bob sees while alice is busy")
    lab.capture:settle() -- the last NOTIFYs finish their transactions before the capture is judged

    -- the marks on the internal leg, per filter mode
    for _, t in ipairs{ { dan, true, "sip.msn.test" }, { bob, true, "sip.aol.test" },
                        { carol, false, "sip.yahoo.test" } } do
      local subs = lab.capture:expect{ leg = "internal", method = "SUBSCRIBE", from = t[1].aor, to = alice.aor }
      wire.expect_trust(subs[1], t[2], t[3], "SUBSCRIBE from " .. t[1].aor)
    end
    -- carol's refusal came from the enterprise and crossed back out
    lab.capture:expect{ leg = "internal", method = "SUBSCRIBE", status = 403, from = carol.aor, count = 1, within = 5 }
    lab.capture:expect{ leg = "external", method = "SUBSCRIBE", status = 403, from = carol.aor, count = 1, within = 5 }
    lab.capture:expect{ leg = "internal", method = "NOTIFY", from = alice.aor, to = carol.aor, count = 0 }
    -- bob's NOTIFYs after the block are closed on the external leg, as the enterprise sent them
    local _, out = wire.relayed_unchanged(lab, { method = "NOTIFY", from = alice.aor, to = bob.aor,
      src = "internal", dst = "external", min = 3 })
    expect_eq(wire.body(out[1].text), "", "the first NOTIFY to bob (pending) has no document")
    for k = 2, #out do
      expect(closed(out[k]), string.format("NOTIFY #%d to blocked bob carries a closed PIDF on the external leg", k))
    end
    local _, dout = wire.relayed_unchanged(lab, { method = "NOTIFY", from = alice.aor, to = dan.aor,
      src = "internal", dst = "external", min = 2 })
    expect(not closed(dout[#dout]), "the last NOTIFY to granted dan is open")
    wire.decrypted(lab, "internal")
    wire.decrypted(lab, "external")
  end,
}
