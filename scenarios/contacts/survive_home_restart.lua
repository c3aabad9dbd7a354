-- CONT-005, the home server's half: contacts and subscriptions survive a restart of the home
-- server. The home server keeps its state as its database would (users, contact lists, allow and
-- block lists, presence, subscription dialogs) while its process is down: every connection to
-- it breaks and nothing listens at pool.contoso.test for a while. The proxy's part is judged:
-- meanwhile a request for the enterprise gets a prompt failure (not a hang); once the server is
-- back, the proxy reaches it over a new connection and carries the subscriptions made before the
-- restart, in both directions (NOTIFYs of a public contact inward, of alice outward, a refresh
-- through the recorded route), without being restarted itself.
local wire = require("wire")

local function notifies(w, who)
  return select(2, w:presence_of(who)).notifies
end

-- Connections between the proxy's internal edge and pool.contoso.test, either way round.
local function pool_flows(lab)
  local pool = lab.addr["pool.contoso.test"]
  local out = {}
  for _, f in ipairs(lab.capture:flows{ leg = "internal" }) do
    if f.client:find(pool, 1, true) == 1 or f.server:find(pool, 1, true) == 1 then out[#out + 1] = f end
  end
  return out
end

return scenario {
  title  = "subscriptions both ways survive a restart of the home server; the proxy reconnects and carries them",
  covers = { "CONT-005" },
  tags   = { "contacts", "robustness" },
  timeout = 60,
  lab    = { providers = { aol = { allow = true }, yahoo = { allow = true },
                           msn = { allow = true } } },
  run = function(lab)
    local ent = lab.enterprise
    local alice = ent:user("alice@contoso.test")
    local bob = lab.provider("aol"):user("bob@aol.test")
    local dan = lab.provider("msn"):user("dan@msn.test")
    alice:allow(bob)
    alice:add_contact(bob)                                  -- alice watches bob (outward)
    bob:expect_authorization_request(alice):grant()
    alice:expect_presence(bob, "online", { subscription = "active" })
    dan:add_contact(alice)                                  -- dan watches alice (inward)
    alice:expect_authorization_request(dan):grant()
    dan:expect_presence(alice, "online", { subscription = "active" })
    expect_eq(dan:send_message(alice, "before"), 200, "MESSAGE before the restart")
    alice:expect_message{ from = dan, contains = "before" }
    local flows_before = #pool_flows(lab)

    ent:stop()
    -- while it is down: the proxy answers a request for the enterprise, it does not hang
    local st, why = dan:send_message(alice, "while down")
    expect(st and st >= 400, "a failure answer to a MESSAGE while the home server is down, got "
      .. tostring(st) .. " " .. tostring(why))
    log("while down: " .. tostring(st) .. " " .. tostring(why))
    lab:sleep(0.3)
    ent:start()

    -- bob's NOTIFY on the dialog made before the restart reaches alice
    local nb = notifies(alice, bob)
    bob:set_presence("away")
    alice:expect_presence(bob, "away", { subscription = "active", notifies = nb + 1 })
    -- alice's NOTIFY on dan's dialog made before the restart reaches dan
    local nd = notifies(dan, alice)
    alice:set_presence("busy")
    dan:expect_presence(alice, "busy", { subscription = "active", notifies = nd + 1 })
    -- alice refreshes her subscription to bob through the route recorded before the restart
    local r0 = select(2, alice:presence_of(bob)).refreshes
    alice:refresh_contact(bob)
    alice:expect_presence(bob, "away", { subscription = "active", refreshes = r0 + 1 })
    expect_eq(dan:send_message(alice, "after"), 200, "MESSAGE after the restart")
    alice:expect_message{ from = dan, contains = "after" }
    expect_eq(alice:send_message(bob, "after, outward"), 200, "MESSAGE outward after the restart")
    bob:expect_message{ from = alice, contains = "after, outward" }
    expect_eq(alice:inbox_count(), 0, "messages alice got beyond those expected (none while down)")
    lab.capture:settle() -- the last NOTIFYs finish their transactions before the capture is judged

    expect(#pool_flows(lab) > flows_before, string.format(
      "new connections between the proxy and pool.contoso.test after the restart (%d before, %d now)",
      flows_before, #pool_flows(lab)))
    local _, inb = wire.relayed_unchanged(lab, { method = "NOTIFY", from = bob.aor, to = alice.aor,
      src = "external", dst = "internal", min = 2 })
    expect_eq(inb[#inb].call_id, inb[1].call_id, "bob's NOTIFY after the restart on the dialog from before")
    wire.expect_trust(inb[#inb], false, "sip.aol.test", "bob's NOTIFY after the restart")
    local _, out = wire.relayed_unchanged(lab, { method = "NOTIFY", from = alice.aor, to = dan.aor,
      src = "internal", dst = "external", min = 2 })
    expect_eq(out[#out].call_id, out[1].call_id, "alice's NOTIFY to dan after the restart on the dialog from before")
    wire.decrypted(lab, "internal")
    wire.decrypted(lab, "external")
    expect(lab.sut:running(), "the proxy was not restarted")
  end,
}
